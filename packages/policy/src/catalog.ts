/**
 * LaunchDarkly's resource types, where each sits in the hierarchy, and the action names each
 * takes. Source: LaunchDarkly's "Using resources" and "Using actions" documentation
 * (https://launchdarkly.com/docs/home/account/role-resources, …/role-actions), as of early 2025,
 * plus the actions the integration framework's own default policies name.
 *
 * The catalog only feeds warnings ("unknown action, did you mean…"): matching is purely by the
 * strings written, so an action LaunchDarkly adds later still works before it is listed here.
 */

export interface ResourceType {
  /** The type of the level above, or null for a top-level type. */
  readonly parent: string | null;
  readonly actions: readonly string[];
}

const APPROVALS = [
  "applyApprovalRequest",
  "createApprovalRequest",
  "deleteApprovalRequest",
  "reviewApprovalRequest",
  "updateApprovalRequest",
];

const ACCESS_TOKEN = [
  "createAccessToken",
  "deleteAccessToken",
  "resetAccessToken",
  "updateAccessTokenDescription",
  "updateAccessTokenName",
  "updateAccessTokenPolicy",
];

export const RESOURCE_TYPES: Readonly<Record<string, ResourceType>> = {
  acct: {
    parent: null,
    actions: [
      "createAnnouncement",
      "createSamlConfig",
      "createScimConfig",
      "deleteAccount",
      "deleteAccountToken",
      "deleteAnnouncement",
      "deleteSamlConfig",
      "deleteScimConfig",
      "deleteSubscription",
      "getPaymentCard",
      "revokeSessions",
      "updateAccountOwner",
      "updateAccountToken",
      "updateAnnouncement",
      "updateBillingContact",
      "updateOrganization",
      "updatePaymentCard",
      "updateRequireMfa",
      "updateSamlDecryptionEnabled",
      "updateSamlDefaultRole",
      "updateSamlEnabled",
      "updateSamlLogoutUrl",
      "updateSamlRequestSigningEnabled",
      "updateSamlRequireSso",
      "updateSamlSsoUrl",
      "updateSamlX509Certificate",
      "updateSamlX509KeystoreId",
      "updateSessionDuration",
      "updateSessionRefresh",
      "updateSubscription",
    ],
  },
  proj: {
    parent: null,
    actions: [
      "createProject",
      "deleteProject",
      "updateDefaultClientSideAvailability",
      "updateDefaultReleasePipeline",
      "updateIncludeInSnippetByDefault",
      "updateProjectFlagDefaults",
      "updateProjectName",
      "updateTags",
      "viewProject",
    ],
  },
  env: {
    parent: "proj",
    actions: [
      "createEnvironment",
      "deleteContextInstance",
      "deleteEnvironment",
      "importEventData",
      "updateApiKey",
      "updateApprovalSettings",
      "updateColor",
      "updateConfirmChanges",
      "updateCritical",
      "updateDefaultTrackEvents",
      "updateMobileKey",
      "updateName",
      "updateRequireComments",
      "updateSecureMode",
      "updateTags",
      "updateTtl",
      "viewSdkKey",
    ],
  },
  flag: {
    parent: "env",
    actions: [
      ...APPROVALS,
      "addReleasePipeline",
      "bypassRequiredApproval",
      "cloneFlag",
      "copyFlagConfigFrom",
      "copyFlagConfigTo",
      "createFlag",
      "createFlagLink",
      "createTriggers",
      "deleteFlag",
      "deleteFlagAttachedGoalResults",
      "deleteFlagLink",
      "deleteTriggers",
      "manageFlagFollowers",
      "removeReleasePipeline",
      "replaceReleasePipeline",
      "stopMeasuredRolloutOnFlagFallthrough",
      "stopMeasuredRolloutOnFlagRule",
      "updateAttachedGoals",
      "updateClientSideFlagAvailability",
      "updateDeprecated",
      "updateDescription",
      "updateExperimentActive",
      "updateExperimentBaseline",
      "updateExpiringRules",
      "updateExpiringTargets",
      "updateFallthrough",
      "updateFallthroughWithMeasuredRollout",
      "updateFeatureWorkflows",
      "updateFlagCodeReferences",
      "updateFlagConfigMigrationSettings",
      "updateFlagCustomProperties",
      "updateFlagDefaultVariations",
      "updateFlagFallthroughTrackEvents",
      "updateFlagLink",
      "updateFlagRuleDescription",
      "updateFlagSalt",
      "updateFlagVariations",
      "updateGlobalArchived",
      "updateIncludeInSnippet",
      "updateMaintainer",
      "updateMeasuredRolloutConfiguration",
      "updateName",
      "updateOffVariation",
      "updateOn",
      "updatePrerequisites",
      "updateReleasePhaseCompleted",
      "updateReleasePhaseStatus",
      "updateRules",
      "updateRulesWithMeasuredRollout",
      "updateScheduledChanges",
      "updateTags",
      "updateTargets",
      "updateTemporary",
      "updateTrackEvents",
      "updateTriggers",
    ],
  },
  segment: {
    parent: "env",
    actions: [
      ...APPROVALS,
      "createSegment",
      "deleteSegment",
      "updateDescription",
      "updateExcluded",
      "updateExpiringTargets",
      "updateIncluded",
      "updateName",
      "updateRules",
      "updateScheduledChanges",
      "updateTags",
    ],
  },
  experiment: {
    parent: "env",
    actions: ["createExperiment", "updateExperiment", "updateExperimentArchived"],
  },
  holdout: {
    parent: "env",
    actions: [
      "addExperimentToHoldout",
      "createHoldout",
      "removeExperimentFromHoldout",
      "updateHoldoutDescription",
      "updateHoldoutMethodology",
      "updateHoldoutName",
      "updateHoldoutRandomizationUnit",
      "updateHoldoutStatus",
    ],
  },
  destination: {
    parent: "env",
    actions: ["createDestination", "deleteDestination", "updateConfiguration", "updateName", "updateOn"],
  },
  user: { parent: "env", actions: ["deleteUser"] },
  metric: {
    parent: "proj",
    actions: [
      "createMetric",
      "deleteMetric",
      "updateDescription",
      "updateEventDefault",
      "updateEventKey",
      "updateMaintainer",
      "updateName",
      "updateNumeric",
      "updateNumericSuccess",
      "updateNumericUnit",
      "updateOn",
      "updateRandomizationUnits",
      "updateSelector",
      "updateTags",
      "updateUnitAggregationType",
      "updateUrls",
    ],
  },
  "metric-group": {
    parent: "proj",
    actions: [
      "createMetricGroup",
      "deleteMetricGroup",
      "updateMetricGroupDescription",
      "updateMetricGroupMaintainer",
      "updateMetricGroupMetrics",
      "updateMetricGroupName",
      "updateMetricGroupTags",
    ],
  },
  "context-kind": {
    parent: "proj",
    actions: ["createContextKind", "updateAvailabilityForExperiments", "updateContextKind"],
  },
  layer: { parent: "proj", actions: ["createLayer", "updateLayer", "updateLayerConfiguration"] },
  "release-pipeline": {
    parent: "proj",
    actions: [
      "createReleasePipeline",
      "deleteReleasePipeline",
      "updateReleasePipelineDescription",
      "updateReleasePipelineName",
      "updateReleasePipelinePhase",
      "updateReleasePipelinePhaseName",
      "updateReleasePipelineTags",
    ],
  },
  aiconfig: {
    parent: "proj",
    actions: [
      "createAIConfig",
      "deleteAIConfig",
      "deleteAIConfigVariation",
      "updateAIConfig",
      "updateAIConfigVariation",
    ],
  },
  member: {
    parent: null,
    actions: [
      "approveDomainMatchedMember",
      "createMember",
      "deleteMember",
      "sendMfaRecoveryCode",
      "sendMfaRequest",
      "updateCustomRole",
      "updateMemberRoleAttributes",
      "updateRole",
    ],
  },
  token: { parent: "member", actions: ACCESS_TOKEN },
  role: {
    parent: null,
    actions: [
      "createRole",
      "deleteRole",
      "updateBasePermissions",
      "updateDescription",
      "updateMembers",
      "updateName",
      "updatePolicy",
      "updateTokens",
    ],
  },
  team: {
    parent: null,
    actions: [
      "createTeam",
      "deleteTeam",
      "updateTeamCustomRoles",
      "updateTeamDescription",
      "updateTeamMembers",
      "updateTeamName",
      "updateTeamPermissionGrants",
      "viewTeam",
    ],
  },
  integration: {
    parent: null,
    actions: [
      "createIntegration",
      "deleteIntegration",
      "updateConfiguration",
      "updateName",
      "updateOn",
      "validateConnection",
    ],
  },
  webhook: {
    parent: null,
    actions: [
      "createWebhook",
      "deleteWebhook",
      "updateName",
      "updateOn",
      "updateQuery",
      "updateSecret",
      "updateStatements",
      "updateTags",
      "updateUrl",
    ],
  },
  "service-token": { parent: null, actions: ACCESS_TOKEN.filter((a) => a !== "updateAccessTokenPolicy") },
  "relay-proxy-config": {
    parent: null,
    actions: [
      "createRelayAutoConfiguration",
      "deleteRelayAutoConfiguration",
      "resetRelayAutoConfiguration",
      "updateRelayAutoConfigurationName",
      "updateRelayAutoConfigurationPolicy",
    ],
  },
  "code-reference-repository": {
    parent: null,
    actions: [
      "createCodeRefsRepository",
      "deleteCodeRefsRepository",
      "updateCodeRefsRepositoryBranches",
      "updateCodeRefsRepositoryConfiguration",
      "updateCodeRefsRepositoryName",
      "updateCodeRefsRepositoryOn",
    ],
  },
  application: {
    parent: null,
    actions: [
      "createApplication",
      "createApplicationVersion",
      "deleteApplication",
      "deleteApplicationVersion",
      "updateApplicationDescription",
      "updateApplicationKind",
      "updateApplicationMaintainer",
      "updateApplicationVersionName",
      "updateApplicationVersionSupport",
    ],
  },
  template: { parent: null, actions: ["createTemplate", "deleteTemplate", "viewTemplate"] },
  "domain-verification": {
    parent: null,
    actions: ["createDomainVerification", "deleteDomainVerification", "updateDomainVerification"],
  },
  "pending-request": { parent: null, actions: ["updatePendingRequest"] },
  // hookwire's own: the operational events about a hook (the store's OPERATIONAL_ACTIONS).
  hook: {
    parent: null,
    actions: [
      "hookDisabled",
      "hookRecovered",
      "hookCircuitOpened",
      "hookCircuitClosed",
      "deliveryExhausted",
      "oauthRefreshFailed",
    ],
  },
};

export function isKnownType(type: string): boolean {
  return Object.hasOwn(RESOURCE_TYPES, type);
}

/** The types allowed directly below `parent` (null: the top level). */
export function childTypes(parent: string | null): string[] {
  return Object.entries(RESOURCE_TYPES)
    .filter(([name, t]) => t.parent === parent && name !== "acct")
    .map(([name]) => name);
}

/** The full specifier pattern for a type, e.g. flag → `proj/*:env/*:flag/*`. */
export function pathOf(type: string): string {
  const chain: string[] = [];
  let current: string | null = type;
  while (current !== null) {
    chain.unshift(current === "acct" ? "acct" : `${current}/*`);
    current = RESOURCE_TYPES[current]?.parent ?? null;
  }
  return chain.join(":");
}

const ALL_ACTIONS: readonly string[] = [...new Set(Object.values(RESOURCE_TYPES).flatMap((t) => t.actions))];

/** Actions of the given types; every known action when no type is known. */
export function actionsFor(types: Iterable<string>): readonly string[] {
  const names = new Set<string>();
  for (const type of types) for (const action of RESOURCE_TYPES[type]?.actions ?? []) names.add(action);
  return names.size === 0 ? ALL_ACTIONS : [...names];
}

export function allActions(): readonly string[] {
  return ALL_ACTIONS;
}
