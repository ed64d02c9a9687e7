export { hmacSha256Hex } from "./signature";
