//! The report as a chart: one horizontal bar per scenario, its rate as a share of the ceiling
//! measured in the same run (an SVG, so no drawing dependency is needed).

use std::fmt::Write as _;

use storage_protocol::xml::escape;

use crate::load::Figures;

const BAR_HEIGHT: usize = 22;
const LABEL_WIDTH: usize = 620;
const BAR_WIDTH: usize = 360;

pub fn svg(rows: &[(String, Figures)], ceiling: &Figures) -> String {
    let height = (rows.len() + 2) * BAR_HEIGHT;
    let width = LABEL_WIDTH + BAR_WIDTH + 120;
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">
<text x="4" y="15" font-weight="bold">req/s as a share of the ceiling (bare actix-web, same run)</text>
"#
    );
    for (i, (name, figures)) in rows.iter().enumerate() {
        let y = (i + 1) * BAR_HEIGHT + 6;
        let share = figures.requests_per_second / ceiling.requests_per_second;
        let bar = ((share.clamp(0.0, 1.0)) * BAR_WIDTH as f64).max(1.0);
        let _ = writeln!(
            out,
            r##"<text x="4" y="{ty}">{label}</text><rect x="{LABEL_WIDTH}" y="{y}" width="{bar:.1}" height="{h}" fill="#1a67a3"/><text x="{tx:.1}" y="{ty}">{rate:.0} req/s ({pct:.1}%)</text>"##,
            ty = y + 14,
            label = escape(name),
            h = BAR_HEIGHT - 6,
            tx = LABEL_WIDTH as f64 + bar + 6.0,
            rate = figures.requests_per_second,
            pct = share * 100.0,
        );
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn figures(rate: f64) -> Figures {
        Figures {
            requests: 10,
            requests_per_second: rate,
            p50: Duration::from_millis(1),
            p99: Duration::from_millis(2),
            cpu_per_request: None,
        }
    }

    #[test]
    fn one_bar_per_scenario_scaled_to_the_ceiling() {
        let ceiling = figures(1000.0);
        let rows = vec![
            ("ceiling".to_string(), ceiling),
            ("GET <storage> & more".to_string(), figures(250.0)),
        ];
        let svg = svg(&rows, &ceiling);
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(
            svg.contains(r#"width="360.0""#),
            "the ceiling fills the bar"
        );
        assert!(svg.contains(r#"width="90.0""#), "a quarter of it");
        assert!(svg.contains("GET &lt;storage&gt; &amp; more"));
        assert!(svg.contains("250 req/s (25.0%)"));
    }
}
