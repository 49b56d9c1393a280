// The dashboard page: each chart widget drawn with ECharts (window.echarts, from npm),
// a click on a bar, point or slice opens the data table with that group's filter, and
// "Download PNG" saves the chart. Charts follow the width of their card (phones too).
const charts = [];

function number(value) {
  if (value === null || value === undefined || typeof value === "object") return null;
  return Number(value);
}

function option(kind, data) {
  const names = data.rows.map((row) => row.labels.map((label) => label ?? "–").join(" / ") || "–");
  if (kind === "pie" || kind === "funnel") {
    const measure = data.measures[0];
    let slices = data.rows.map((row, i) => ({ name: names[i], value: number(row.values[measure.key]), index: i }));
    // a slice of zero is no slice: a pie whose values are all zero shows its total, 0
    if (kind === "pie") slices = slices.filter((slice) => slice.value);
    return {
      title: slices.length ? undefined : { text: "0", left: "center", top: "middle" },
      tooltip: { trigger: "item" },
      series: [{
        type: kind, name: measure.label, radius: kind === "pie" ? ["35%", "70%"] : undefined,
        sort: kind === "funnel" ? "none" : undefined,
        // a funnel leaves room for its labels on the right
        left: kind === "funnel" ? "5%" : undefined, width: kind === "funnel" ? "55%" : undefined,
        data: slices,
      }],
    };
  }
  // A measure that is a ratio (every value within -1..1) beside measures that are not
  // (a repurchase rate beside the counts it divides) is drawn as a line on a second axis,
  // in percent, instead of vanishing at the foot of the bars.
  const largest = (m) => Math.max(0, ...data.rows.map((row) => Math.abs(number(row.values[m.key]) || 0)));
  const ratios = data.measures.filter((m) => largest(m) <= 1);
  const twoAxes = ratios.length > 0 && ratios.length < data.measures.length;
  const percent = { type: "value", min: 0, axisLabel: { formatter: (v) => `${Math.round(v * 100)}%` },
                    splitLine: { show: false } };
  return {
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 8, right: 8, bottom: 8, top: 32, containLabel: true },
    xAxis: { type: "category", data: names },
    yAxis: twoAxes ? [{ type: "value" }, percent] : { type: "value" },
    series: data.measures.map((m) => {
      const ratio = twoAxes && ratios.includes(m);
      return {
        type: kind === "bar" && !ratio ? "bar" : "line", name: m.label, yAxisIndex: ratio ? 1 : 0,
        areaStyle: kind === "area" && !ratio ? {} : undefined,
        data: data.rows.map((row) => number(row.values[m.key])),
      };
    }),
  };
}

for (const card of document.querySelectorAll("[data-widget]")) {
  const holder = card.querySelector(".chart");
  const source = card.querySelector("script[data-chart]");
  if (!holder || !source || !window.echarts) continue;
  const data = JSON.parse(source.textContent);
  const chart = window.echarts.init(holder);
  chart.setOption(option(card.dataset.kind, data));
  chart.on("click", (event) => {
    const row = data.rows[event.data && event.data.index !== undefined ? event.data.index : event.dataIndex];
    if (!row) return;
    const query = row.filter ? `?filter=${encodeURIComponent(JSON.stringify(row.filter))}` : "";
    window.location.href = card.dataset.table + query;
  });
  const png = card.querySelector("[data-png]");
  if (png) {
    png.addEventListener("click", () => {
      const link = document.createElement("a");
      link.href = chart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#fff" });
      link.download = `${card.dataset.widget}.png`;
      link.click();
    });
  }
  charts.push(chart);
}

window.addEventListener("resize", () => { for (const chart of charts) chart.resize(); });
