// A small time-series line chart on <canvas>: sharp on any screen density, redrawn on resize,
// gaps where a value is null, a hover read-out. In: a canvas and series definitions; out: pixels.

const PADDING = { top: 12, right: 14, bottom: 26, left: 52 };

/** Rounds a span to 1, 2 or 5 times a power of ten, for gridlines a reader can add up. */
function niceStep(span, targetTicks) {
  const raw = span / Math.max(1, targetTicks);
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

function cssVar(element, name, fallback) {
  const value = getComputedStyle(element).getPropertyValue(name).trim();
  return value === "" ? fallback : value;
}

function clockLabel(ms) {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

export class LineChart {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{ series: { key: string, label: string, color: string, fill?: boolean }[],
   *           format: (value: number) => string, integer?: boolean, emptyText?: string }} options
   */
  constructor(canvas, options) {
    this.canvas = canvas;
    this.options = options;
    /** @type {{ t: number, values: Record<string, number | null> }[]} */
    this.points = [];
    this.hoverIndex = -1;
    this.resizeObserver = new ResizeObserver(() => this.draw());
    this.resizeObserver.observe(canvas);
    canvas.addEventListener("pointermove", (event) => this.#hover(event));
    canvas.addEventListener("pointerleave", () => {
      this.hoverIndex = -1;
      this.draw();
    });
  }

  /** How many points hold at least one value: what the page reports as the chart's content. */
  get filledPoints() {
    return this.points.filter((p) => this.options.series.some((s) => p.values[s.key] != null)).length;
  }

  update(points) {
    this.points = points;
    this.canvas.dataset.points = String(this.filledPoints);
    this.draw();
  }

  draw() {
    const canvas = this.canvas;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (width === 0 || height === 0) return;
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);

    const muted = cssVar(canvas, "--muted", "#6b7280");
    const grid = cssVar(canvas, "--grid", "#e5e7eb");
    ctx.font = "11px system-ui, -apple-system, 'Segoe UI', sans-serif";

    const plot = {
      left: PADDING.left,
      top: PADDING.top,
      width: Math.max(10, width - PADDING.left - PADDING.right),
      height: Math.max(10, height - PADDING.top - PADDING.bottom),
    };
    const { series, format } = this.options;
    const values = this.points.flatMap((p) => series.map((s) => p.values[s.key]).filter((v) => v != null));
    const max = Math.max(0, ...values);
    const ticks = Math.max(2, Math.floor(plot.height / 38));
    // Counts (jobs) step by whole numbers: a 0.5 job gridline means nothing.
    const step = Math.max(this.options.integer ? 1 : 0, niceStep(max > 0 ? max : 1, ticks));
    const top = Math.max(step, Math.ceil(max / step) * step);
    const t0 = this.points[0]?.t ?? 0;
    const t1 = this.points.at(-1)?.t ?? 1;
    const x = (t) => plot.left + (t1 === t0 ? plot.width : ((t - t0) / (t1 - t0)) * plot.width);
    const y = (v) => plot.top + plot.height - (v / top) * plot.height;

    // Horizontal gridlines with their values.
    ctx.strokeStyle = grid;
    ctx.fillStyle = muted;
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let v = 0; v <= top + step / 2; v += step) {
      const py = Math.round(y(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(plot.left, py);
      ctx.lineTo(plot.left + plot.width, py);
      ctx.stroke();
      ctx.fillText(format(v), plot.left - 8, py);
    }
    // Time labels, every 5, 10, 15 or 30 minutes depending on the width.
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const spanMinutes = (t1 - t0) / 60e3;
    const every = [5, 10, 15, 30, 60].find((m) => (spanMinutes / m) * 56 <= plot.width) ?? 60;
    for (let t = Math.ceil(t0 / (every * 60e3)) * every * 60e3; t <= t1; t += every * 60e3) {
      ctx.fillText(clockLabel(t), x(t), plot.top + plot.height + 8);
    }

    if (values.length === 0) {
      ctx.textBaseline = "middle";
      ctx.fillText(
        this.options.emptyText ?? "no data yet",
        plot.left + plot.width / 2,
        plot.top + plot.height / 2,
      );
      return;
    }

    for (const s of series) this.#drawSeries(ctx, s, x, y, plot);
    this.#drawHover(ctx, x, y, plot, muted);
  }

  #drawSeries(ctx, s, x, y, plot) {
    // Runs of consecutive values; a null breaks the line instead of dragging it to zero.
    const runs = [];
    let run = [];
    for (const p of this.points) {
      const v = p.values[s.key];
      if (v == null) {
        if (run.length > 0) runs.push(run);
        run = [];
      } else run.push([x(p.t), y(v)]);
    }
    if (run.length > 0) runs.push(run);
    for (const r of runs) {
      if (s.fill && r.length > 1) {
        ctx.beginPath();
        ctx.moveTo(r[0][0], plot.top + plot.height);
        for (const [px, py] of r) ctx.lineTo(px, py);
        ctx.lineTo(r.at(-1)[0], plot.top + plot.height);
        ctx.closePath();
        ctx.globalAlpha = 0.14;
        ctx.fillStyle = s.color;
        ctx.fill();
        ctx.globalAlpha = 1;
      }
      ctx.beginPath();
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 2;
      ctx.lineJoin = "round";
      ctx.moveTo(r[0][0], r[0][1]);
      for (const [px, py] of r.slice(1)) ctx.lineTo(px, py);
      ctx.stroke();
      if (r.length === 1) {
        ctx.beginPath();
        ctx.fillStyle = s.color;
        ctx.arc(r[0][0], r[0][1], 2.5, 0, Math.PI * 2);
        ctx.fill();
      }
    }
  }

  #drawHover(ctx, x, y, plot, muted) {
    const point = this.points[this.hoverIndex];
    if (point === undefined) return;
    const px = x(point.t);
    ctx.strokeStyle = muted;
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    ctx.moveTo(px, plot.top);
    ctx.lineTo(px, plot.top + plot.height);
    ctx.stroke();
    ctx.setLineDash([]);
    const lines = [clockLabel(point.t)];
    for (const s of this.options.series) {
      const v = point.values[s.key];
      if (v == null) continue;
      ctx.beginPath();
      ctx.fillStyle = s.color;
      ctx.arc(px, y(v), 3.5, 0, Math.PI * 2);
      ctx.fill();
      lines.push(`${s.label} ${this.options.format(v)}`);
    }
    const boxWidth = Math.max(...lines.map((l) => ctx.measureText(l).width)) + 16;
    const boxHeight = lines.length * 15 + 8;
    const bx = px + boxWidth + 12 > plot.left + plot.width ? px - boxWidth - 8 : px + 8;
    ctx.fillStyle = cssVar(this.canvas, "--tooltip", "rgba(17,24,39,0.92)");
    ctx.beginPath();
    ctx.roundRect(bx, plot.top + 4, boxWidth, boxHeight, 6);
    ctx.fill();
    ctx.fillStyle = "#f9fafb";
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    for (const [i, line] of lines.entries()) ctx.fillText(line, bx + 8, plot.top + 9 + i * 15);
  }

  #hover(event) {
    if (this.points.length === 0) return;
    const rect = this.canvas.getBoundingClientRect();
    const fraction =
      (event.clientX - rect.left - PADDING.left) / Math.max(1, rect.width - PADDING.left - PADDING.right);
    const index = Math.round(Math.min(1, Math.max(0, fraction)) * (this.points.length - 1));
    if (index !== this.hoverIndex) {
      this.hoverIndex = index;
      this.draw();
    }
  }
}
