//! The comparison as one self-contained HTML page, for sales ops who open it in a browser
//! rather than read JSON.
//!
//! The page has no outside references at all (no scripts, stylesheets, fonts, images or
//! web links): it is mailed around and opened on locked-down machines, and it must look the
//! same offline years later. The charts (`super::charts`) are SVG documents inlined into
//! it. Every figure shown in a chart is also given as a table.
//!
//! This module owns what fills the page (`Page`), the template's filters over the
//! shared number formats (`super::format`), the HTML escaper, and [`render`]. The page's markup
//! is an askama template, `templates/compare/report.html`: it reads and is reviewed as
//! HTML rather than as hundreds of string pushes, askama checks it against `Page` when
//! the crate compiles (a misspelt field or filter is a build error, not a broken report),
//! and it is compiled into the binary, so nothing is loaded at run time and the binary
//! needs no template files beside it. askama keeps the template's whitespace as written,
//! with explicit trimming where a line break must not reach the page, so the output stays
//! byte for byte what it was when the page was assembled by hand.

use std::path::PathBuf;

use askama::Template;

use super::charts::{calibration_svg, distributions_svg, gains_svg, roc_svg, ChartResult};
use super::format::MISSING;
use super::report::*;
use crate::error::Error;

/// Renders the comparison as one HTML document (UTF-8, starting with `<!DOCTYPE html>`).
///
/// The page is self-contained so that it can be attached to an e-mail or archived next to
/// the model artifact and still open unchanged without network access. Every string that
/// comes from the data (lead ids, reasons, tier and period names) is HTML-escaped, since
/// CRM fields are free text typed by people. Missing figures (NaN) show as "–".
///
/// Fails only if drawing a chart or filling the page fails, which is reported as an output
/// error (the page could not be produced; nothing is wrong with the user's input).
pub fn render(report: &Comparison) -> Result<String, Error> {
    let charts = Charts {
        roc: chart("ROC chart", || roc_svg(report))?,
        gains: chart("gains chart", || gains_svg(report))?,
        calibration: chart("calibration chart", || calibration_svg(report))?,
        distributions: chart("distributions chart", || distributions_svg(report))?,
    };
    let same_volume = &report.same_volume;
    let page = Page {
        report,
        won: won_count(report),
        difference: same_volume.won_by_model as i64 - same_volume.won_by_rule as i64,
        deciles: deciles(report),
        charts,
    };
    let mut html = page
        .render()
        .map_err(|e| output_error("page", format!("filling the template failed: {e}")))?;
    // askama drops the template file's final line break; the page ends with one.
    html.push('\n');
    Ok(html)
}

/// What `templates/compare/report.html` is filled from: the report itself, and what the
/// page shows that the report does not hold as such.
#[derive(Template)]
#[template(path = "compare/report.html", config = "templates/askama.toml")]
struct Page<'a> {
    report: &'a Comparison,
    /// Won leads in total (see [`won_count`]).
    won: String,
    /// Won deals among the model's choice minus among the rule's, at the same call volume.
    difference: i64,
    /// Rows of the gains table.
    deciles: Vec<Decile<'a>>,
    charts: Charts,
}

/// The four charts as SVG documents, inlined into the page as they are.
struct Charts {
    roc: String,
    gains: String,
    calibration: String,
    distributions: String,
}

/// One row of the gains table: a decile of each score, side by side.
struct Decile<'a> {
    number: usize,
    /// The rule's decile, then the model's; `None` where that side has fewer deciles (the
    /// page shows dashes there).
    sides: [Option<&'a GainRow>; 2],
}

/// The gains table's rows: as many as the longer side has deciles.
fn deciles(report: &Comparison) -> Vec<Decile<'_>> {
    let (rule, model) = (&report.rule.gains, &report.model.gains);
    (0..rule.len().max(model.len()))
        .map(|i| {
            let sides = [rule.get(i), model.get(i)];
            Decile {
                number: sides[0].or(sides[1]).map_or(i + 1, |g| g.decile),
                sides,
            }
        })
        .collect()
}

/// Runs one chart drawing and turns its failure into the crate's error.
fn chart(name: &str, draw: impl FnOnce() -> ChartResult<String>) -> Result<String, Error> {
    draw().map_err(|e| output_error(name, format!("drawing failed: {e}")))
}

/// The page's failure as the crate's output error, naming the part that failed.
fn output_error(part: &str, message: String) -> Error {
    Error::output(
        PathBuf::from(format!("HTML report ({part})")),
        std::io::Error::other(message),
    )
}

/// The template's filters: the number formats below, for `{{ g.won_rate|pct }}` and the
/// like. Each takes the figure by reference, as askama passes it, and cannot fail.
// askama's `filter_fn` writes a public helper type beside each filter, which this private
// module keeps out of reach anyway.
#[allow(unreachable_pub)]
mod filters {
    use super::Interval;
    use askama::{Result, Values};

    /// One filter per format, handing the figure on by value.
    macro_rules! formats {
        ($($name:ident($figure:ty $(, $arg:ident: $arg_type:ty)*);)*) => {$(
            #[askama::filter_fn]
            pub(crate) fn $name(figure: &$figure, _: &dyn Values $(, $arg: $arg_type)*) -> Result<String> {
                Ok(crate::compare::format::$name(*figure $(, $arg)*))
            }
        )*};
    }

    formats! {
        num(f64, decimals: usize);
        opt(Option<f64>, decimals: usize);
        pct(f64);
        pct0(f64);
        lift(f64);
        points(f64);
        interval(Interval);
        won_figure(f64);
    }
}

// ---------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------

/// The page's HTML escaper, for element content and attribute values alike (askama runs
/// every `{{ value }}` of the template through it, see `templates/askama.toml`).
///
/// It writes the named entities and `&#39;`, as the page always has; askama's built-in
/// escaper writes numeric ones (`&#60;` for `<`), which would change the bytes of every
/// report whose data holds one of these characters.
#[derive(Debug, Clone, Copy)]
struct Escape;

impl askama::filters::Escaper for Escape {
    fn write_escaped_str<W: std::fmt::Write>(&self, mut dest: W, text: &str) -> std::fmt::Result {
        let mut rest = text;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            dest.write_str(&rest[..at])?;
            dest.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        dest.write_str(rest)
    }
}

/// Won leads in total, from the deciles (both sides count the same leads).
fn won_count(report: &Comparison) -> String {
    let from_gains =
        |g: &[GainRow]| -> Option<f64> { (!g.is_empty()).then(|| g.iter().map(|r| r.won).sum()) };
    match from_gains(&report.model.gains).or_else(|| from_gains(&report.rule.gains)) {
        Some(won) => format!("{won:.0}"),
        None if report.base_rate.is_finite() => {
            format!("{:.0}", report.base_rate * report.leads as f64)
        }
        None => MISSING.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(value: f64) -> Interval {
        Interval {
            value,
            low: value - 0.03,
            high: value + 0.03,
        }
    }

    fn gains(rates: [f64; 3]) -> Vec<GainRow> {
        let mut found = 0;
        rates
            .iter()
            .enumerate()
            .map(|(i, &rate)| {
                let won = (rate * 10.0) as usize;
                found += won;
                GainRow {
                    decile: i + 1,
                    leads: 10,
                    won: won as f64,
                    won_rate: rate,
                    cumulative_won_share: found as f64 / 9.0,
                    cumulative_lift: (found as f64 / (10.0 * (i + 1) as f64)) / 0.3,
                }
            })
            .collect()
    }

    fn side(name: &str, auc: f64, probabilities: bool) -> Side {
        Side {
            name: name.to_owned(),
            roc_auc: interval(auc),
            pr_auc: interval(auc - 0.3),
            log_loss: probabilities.then_some(0.52),
            brier: probabilities.then_some(0.17),
            roc_curve: vec![
                (0.0, 0.0),
                (0.2, 0.5),
                (0.5, 0.8),
                (f64::NAN, 0.9),
                (1.0, 1.0),
            ],
            gains: if probabilities {
                gains([0.6, 0.2, 0.1])
            } else {
                gains([0.5, 0.3, 0.1])
            },
        }
    }

    fn sample() -> Comparison {
        Comparison {
            leadscore_version: "0.1.0".to_owned(),
            model_fingerprint: "abc123".to_owned(),
            cutoff: "the leads open at 10 evaluation dates 7 days apart".to_owned(),
            headline_is_unseen: true,
            leads: 30,
            base_rate: 0.3,
            leads_in_training_period: 12,
            rule: side("rule points", 0.68, false),
            model: side("predictive probability", 0.79, true),
            roc_auc_difference: Interval {
                value: 0.07,
                low: 0.02,
                high: f64::NAN,
            },
            calibration: vec![
                CalibrationBin {
                    from: 0.0,
                    to: 0.5,
                    leads: 20,
                    mean_predicted: 0.18,
                    won_rate: 0.15,
                },
                CalibrationBin {
                    from: 0.5,
                    to: 1.0,
                    leads: 10,
                    mean_predicted: 0.62,
                    won_rate: 0.6,
                },
                CalibrationBin {
                    from: 0.9,
                    to: 1.0,
                    leads: 0,
                    mean_predicted: f64::NAN,
                    won_rate: f64::NAN,
                },
            ],
            tiers: vec![
                GroupRate {
                    name: "nurture".to_owned(),
                    leads: 20,
                    won: 4,
                    won_rate: 0.2,
                },
                GroupRate {
                    name: "sales_ready".to_owned(),
                    leads: 10,
                    won: 5,
                    won_rate: 0.5,
                },
            ],
            grades: vec![
                GroupRate {
                    name: "D".to_owned(),
                    leads: 0,
                    won: 0,
                    won_rate: f64::NAN,
                },
                GroupRate {
                    name: "A & B".to_owned(),
                    leads: 30,
                    won: 9,
                    won_rate: 0.3,
                },
            ],
            same_volume: SameVolume {
                action_tier: "sales_ready".to_owned(),
                calls: 10,
                won_by_rule: 5,
                won_by_model: 6,
                sentence: "Calling the same 10 leads, the model finds 6 won deals where the \
                           rule finds 5 (+1)."
                    .to_owned(),
            },
            disagreements: vec![Disagreement {
                lead_id: "L-<b>7</b>".to_owned(),
                as_of: "2025-10-30".to_owned(),
                outcome: "won".to_owned(),
                points: 15.0,
                tier: "nurture".to_owned(),
                rule_percentile: 12.0,
                probability: 0.81,
                model_percentile: 97.0,
                rule_reasons: "visited pricing <script>alert(1)</script>".to_owned(),
                model_reasons: "many \"emails\" opened; <script src=x>".to_owned(),
            }],
            distributions: Distributions {
                points: Histogram {
                    edges: vec![0.0, 25.0, 50.0, 75.0, 100.0],
                    won: vec![1, 2, 3, 3],
                    lost: vec![8, 7, 4, 2],
                },
                probability: Histogram {
                    edges: vec![0.0, 0.25, 0.5, 0.75, 1.0],
                    won: vec![0, 2, 3, 4],
                    lost: vec![10, 7, 3, 1],
                },
            },
            periods: vec![
                Period {
                    name: "training period (closed before 2025-09-30)".to_owned(),
                    leads: 12,
                    base_rate: 0.25,
                    rule_roc_auc: 0.66,
                    model_roc_auc: 0.83,
                },
                Period {
                    name: "later (closed from 2025-09-30)".to_owned(),
                    leads: 18,
                    base_rate: 1.0,
                    rule_roc_auc: f64::NAN,
                    model_roc_auc: f64::NAN,
                },
            ],
            rule_checks: vec![RuleCheck {
                rule: "Careers page <visit>".to_owned(),
                kind: "engagement".to_owned(),
                leads_fired: 40,
                mean_points: -5.0,
                won_rate_fired: 0.4,
                won_rate_not_fired: 0.3,
                agrees: false,
                verdict: "wishful".to_owned(),
            }],
            never_closed: NeverClosed {
                leads: 50,
                never_closed: 20,
                judged: GroupScores {
                    rows: 30,
                    leads: 25,
                    median_probability: 0.3,
                    median_points: 130.0,
                    action_share: 0.2,
                },
                open: GroupScores {
                    rows: 12,
                    leads: 8,
                    median_probability: 0.1,
                    median_points: 110.0,
                    action_share: 0.0,
                },
                sampled: false,
                probability_tenths: vec![[0.1, 0.2]; 10],
                sentence: "20 of the 50 leads never closed <&>.".to_owned(),
            },
        }
    }

    #[test]
    fn page_is_self_contained_with_four_charts() {
        let html = render(&sample()).expect("renders");
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert_eq!(html.matches("<svg").count(), 4, "one SVG per chart");
        assert!(
            !html.contains("<script"),
            "no script element, not even from data"
        );
        assert!(!html.to_lowercase().contains("<link"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&lt;script src=x&gt;"));
        assert!(html.contains("L-&lt;b&gt;7&lt;/b&gt;"));
        assert!(html.contains("A &amp; B"));
        assert!(html.contains("What this comparison cannot see"));
        assert!(html.contains("never closed &lt;&amp;&gt;."));
        let without_svg_namespace = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        assert!(!without_svg_namespace.contains("http://"));
        assert!(!without_svg_namespace.contains("https://"));
    }

    #[test]
    fn missing_figures_show_as_a_dash() {
        let html = render(&sample()).expect("renders");
        assert!(!html.contains("NaN"));
        assert!(html.contains("<td class=\"num\">\u{2013}</td>"));
    }

    #[test]
    fn empty_report_still_renders() {
        let mut report = sample();
        report.rule.roc_curve.clear();
        report.rule.gains.clear();
        report.model.gains.clear();
        report.calibration.clear();
        report.tiers.clear();
        report.disagreements.clear();
        report.periods.clear();
        report.distributions.points = Histogram {
            edges: vec![],
            won: vec![],
            lost: vec![],
        };
        report.distributions.probability = Histogram {
            edges: vec![0.0, 1.0],
            won: vec![0],
            lost: vec![0],
        };
        let html = render(&report).expect("renders");
        assert_eq!(html.matches("<svg").count(), 4);
        assert!(html.contains("no data"));
    }
}
