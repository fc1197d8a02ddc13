//! `latency.svg`: every operation's latency over time, coloured by outcome, with the throughput
//! of acknowledged operations and the fault windows shaded and labelled, as Jepsen's
//! latency-raw and rate plots show them on one chart.
//!
//! Hand-written SVG: a scatter, a polyline and rectangles need no plotting crate, and the file
//! opens in any browser. Latency is on a log scale (milliseconds to seconds on one chart).

use std::fmt::Write;

use super::Outcome;

/// Points drawn at most: above this, acknowledged operations are thinned evenly (failed and
/// unknown ones, the interesting few, are always drawn), so a long run's plot stays small.
pub const POINTS_MAX: usize = 12_000;

const WIDTH: f64 = 1200.0;
const HEIGHT: f64 = 560.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 70.0;
const TOP: f64 = 60.0;
const BOTTOM: f64 = 50.0;
/// Lowest latency on the axis, in milliseconds; faster operations are drawn on it.
const LATENCY_MS_MIN: f64 = 0.1;

/// One operation on the chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// When it was invoked, seconds from the start of the run.
    pub invoke_s: f64,
    pub latency_ms: f64,
    pub outcome: Outcome,
}

/// One shaded fault window.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub start_s: f64,
    pub end_s: f64,
    pub label: String,
}

fn colour(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Ok => "#1f77b4",
        Outcome::Fail => "#d62728",
        Outcome::Unknown => "#ff7f0e",
    }
}

/// Escapes text for SVG content and attributes.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The points to draw: all of them, or every failed and unknown one plus an even sample of the
/// acknowledged ones when there are more than `max`.
pub fn thin(points: &[Point], max: usize) -> Vec<Point> {
    if points.len() <= max {
        return points.to_vec();
    }
    let others = points.iter().filter(|p| p.outcome != Outcome::Ok).count();
    let ok = points.len() - others;
    let keep_ok = max.saturating_sub(others).max(1);
    let mut seen_ok = 0usize;
    points
        .iter()
        .filter(|p| {
            if p.outcome != Outcome::Ok {
                return true;
            }
            seen_ok += 1;
            // Keep the i-th acknowledged point when it crosses a multiple of ok / keep_ok.
            (seen_ok * keep_ok) / ok != ((seen_ok - 1) * keep_ok) / ok
        })
        .copied()
        .collect()
}

/// Acknowledged operations completed in each whole second of `0..duration_s`.
pub fn throughput(points: &[Point], duration_s: f64) -> Vec<f64> {
    let buckets = duration_s.ceil().max(1.0) as usize;
    let mut counts = vec![0.0; buckets];
    for p in points.iter().filter(|p| p.outcome == Outcome::Ok) {
        let done_s = p.invoke_s + p.latency_ms / 1000.0;
        let bucket = (done_s.max(0.0) as usize).min(buckets - 1);
        counts[bucket] += 1.0;
    }
    counts
}

/// A "nice" axis maximum at or above `value`: 1, 2 or 5 times a power of ten.
fn nice_ceiling(value: f64) -> f64 {
    if value <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * power).find(|&v| v >= value).unwrap_or(10.0 * power)
}

/// The whole chart as an SVG document. `duration_s` is the length of the time axis; `points`
/// are every operation (thinned here to [`POINTS_MAX`]).
pub fn render(title: &str, points: &[Point], bands: &[Band], duration_s: f64) -> String {
    let duration_s = duration_s.max(1.0);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |s: f64| LEFT + (s / duration_s).clamp(0.0, 1.0) * plot_w;
    let latency_ms_max = nice_ceiling(points.iter().map(|p| p.latency_ms).fold(1.0, f64::max)).max(10.0);
    let decades = (latency_ms_max / LATENCY_MS_MIN).log10();
    let y_latency = |ms: f64| TOP + plot_h * (1.0 - (ms.max(LATENCY_MS_MIN) / LATENCY_MS_MIN).log10() / decades);
    let rates = throughput(points, duration_s);
    let rate_max = nice_ceiling(rates.iter().copied().fold(1.0, f64::max));
    let y_rate = |r: f64| TOP + plot_h * (1.0 - r / rate_max);

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(svg, r#"<text x="{LEFT}" y="22" font-size="15" font-weight="bold">{}</text>"#, escape(title));

    // Fault windows under everything else, labels staggered so neighbours do not collide.
    let _ = writeln!(svg, r#"<g class="faults">"#);
    for (i, band) in bands.iter().enumerate() {
        let (x0, x1) = (x(band.start_s), x(band.end_s));
        let _ = writeln!(
            svg,
            r##"<rect x="{x0:.1}" y="{TOP}" width="{:.1}" height="{plot_h}" fill="#999999" fill-opacity="0.18"><title>{}</title></rect>"##,
            (x1 - x0).max(1.0),
            escape(&band.label)
        );
        let label_y = TOP - 6.0 - 12.0 * (i % 2) as f64;
        let _ = writeln!(
            svg,
            r##"<text x="{x0:.1}" y="{label_y}" font-size="10" fill="#555555">{}</text>"##,
            escape(&band.label)
        );
    }
    let _ = writeln!(svg, "</g>");

    // Axes and grid.
    let _ =
        writeln!(svg, r#"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="black"/>"#);
    let mut ms = LATENCY_MS_MIN;
    while ms <= latency_ms_max * 1.001 {
        let y = y_latency(ms);
        let label = if ms >= 1000.0 { format!("{}s", ms / 1000.0) } else { format!("{ms}ms") };
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#dddddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{label}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            y + 4.0
        );
        ms *= 10.0;
    }
    let step_s = nice_ceiling(duration_s / 12.0);
    let mut s = 0.0;
    while s <= duration_s + 1e-9 {
        let xs = x(s);
        let _ = writeln!(
            svg,
            r#"<line x1="{xs:.1}" y1="{:.1}" x2="{xs:.1}" y2="{:.1}" stroke="black"/><text x="{xs:.1}" y="{:.1}" text-anchor="middle">{s}</text>"#,
            TOP + plot_h,
            TOP + plot_h + 5.0,
            TOP + plot_h + 18.0
        );
        s += step_s;
    }
    for i in 0..=4 {
        let rate = rate_max * i as f64 / 4.0;
        let _ = writeln!(svg, r#"<text x="{:.1}" y="{:.1}">{rate}</text>"#, LEFT + plot_w + 6.0, y_rate(rate) + 4.0);
    }
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">time since start (s)</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 10.0
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle">latency (log scale)</text>"#,
        TOP + plot_h / 2.0
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate({:.1} {:.1}) rotate(90)" text-anchor="middle">acknowledged ops/s</text>"#,
        WIDTH - 14.0,
        TOP + plot_h / 2.0
    );

    // The scatter, one group per outcome so each colour is written once.
    let shown = thin(points, POINTS_MAX);
    for outcome in [Outcome::Ok, Outcome::Unknown, Outcome::Fail] {
        let _ = writeln!(svg, r#"<g class="{}" fill="{}" fill-opacity="0.6">"#, outcome.name(), colour(outcome));
        for p in shown.iter().filter(|p| p.outcome == outcome) {
            let _ = writeln!(svg, r#"<circle cx="{:.1}" cy="{:.1}" r="1.6"/>"#, x(p.invoke_s), y_latency(p.latency_ms));
        }
        let _ = writeln!(svg, "</g>");
    }

    // Throughput, plotted at the middle of each second.
    let line: Vec<String> =
        rates.iter().enumerate().map(|(i, r)| format!("{:.1},{:.1}", x(i as f64 + 0.5), y_rate(*r))).collect();
    let _ = writeln!(
        svg,
        r#"<polyline class="throughput" fill="none" stroke="black" stroke-width="1.2" points="{}"/>"#,
        line.join(" ")
    );

    // Legend.
    let legend = [("ok", colour(Outcome::Ok)), ("unknown", colour(Outcome::Unknown)), ("fail", colour(Outcome::Fail))];
    let mut lx = WIDTH - RIGHT - 330.0;
    for (name, fill) in legend {
        let _ = writeln!(
            svg,
            r#"<circle cx="{lx}" cy="18" r="4" fill="{fill}"/><text x="{:.1}" y="22">{name}</text>"#,
            lx + 8.0
        );
        lx += 70.0;
    }
    let _ = writeln!(
        svg,
        r##"<line x1="{lx}" y1="18" x2="{:.1}" y2="18" stroke="black"/><text x="{:.1}" y="22">ops/s</text><rect x="{:.1}" y="12" width="14" height="12" fill="#999999" fill-opacity="0.3"/><text x="{:.1}" y="22">fault</text>"##,
        lx + 16.0,
        lx + 20.0,
        lx + 62.0,
        lx + 80.0
    );
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(invoke_s: f64, latency_ms: f64, outcome: Outcome) -> Point {
        Point { invoke_s, latency_ms, outcome }
    }

    #[test]
    fn the_chart_has_one_dot_per_operation_and_every_fault_window() {
        let points = [
            point(0.5, 2.0, Outcome::Ok),
            point(1.5, 3.0, Outcome::Ok),
            point(2.5, 2000.0, Outcome::Unknown),
            point(3.0, 1.0, Outcome::Fail),
        ];
        let bands = [Band { start_s: 2.0, end_s: 4.0, label: "kill-one <n2>".into() }];
        let svg = render("register & co", &points, &bands, 10.0);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches(r#"r="1.6""#).count(), 4);
        assert!(svg.contains(r##"<g class="unknown" fill="#ff7f0e""##));
        assert!(svg.contains("kill-one &lt;n2&gt;"), "labels are escaped");
        assert!(svg.contains("register &amp; co"));
        assert_eq!(svg.matches("fill-opacity=\"0.18\"").count(), 1, "one shaded window");
        // The window spans 2..4 s of 10 s on a 1060-pixel axis starting at 70.
        assert!(svg.contains(r#"<rect x="282.0" y="60" width="212.0""#), "{svg}");
        assert!(svg.contains("<polyline class=\"throughput\""));
    }

    #[test]
    fn throughput_counts_acknowledged_operations_by_completion_second() {
        let points = [
            point(0.2, 100.0, Outcome::Ok),
            point(0.9, 200.0, Outcome::Ok),
            point(0.1, 1.0, Outcome::Fail),
            point(2.5, 1.0, Outcome::Ok),
        ];
        assert_eq!(throughput(&points, 3.0), vec![1.0, 1.0, 1.0]);
    }

    #[test]
    fn thinning_keeps_every_failure_and_an_even_share_of_the_rest() {
        let mut points: Vec<Point> = (0..10_000).map(|i| point(i as f64, 1.0, Outcome::Ok)).collect();
        points.push(point(5.0, 1.0, Outcome::Fail));
        points.push(point(6.0, 1.0, Outcome::Unknown));
        let kept = thin(&points, 1_000);
        assert_eq!(kept.len(), 1_000);
        assert_eq!(kept.iter().filter(|p| p.outcome != Outcome::Ok).count(), 2);
        assert_eq!(thin(&points[..10], 1_000).len(), 10);
    }

    #[test]
    fn axis_maxima_are_round() {
        assert_eq!(nice_ceiling(3.2), 5.0);
        assert_eq!(nice_ceiling(120.0), 200.0);
        assert_eq!(nice_ceiling(1000.0), 1000.0);
        assert_eq!(nice_ceiling(0.0), 1.0);
    }
}
