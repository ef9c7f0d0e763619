//! The comparison as one self-contained HTML page, for sales ops who open it in a browser
//! rather than read JSON.
//!
//! The page has no outside references at all (no scripts, stylesheets, fonts, images or
//! web links): it is mailed around and opened on locked-down machines, and it must look the
//! same offline years later. Charts are drawn with `plotters` into SVG strings that are
//! inlined; their text is plain SVG `<text>` (no font files, no system font libraries), so
//! the browser picks the font. Every figure shown in a chart is also given as a table.
//!
//! This module owns the page's data and the code around it: the charts (`roc_svg`,
//! `gains_svg`, `calibration_svg`, `distributions_svg`), the number formats (`pct`, `num`,
//! `lift`, ...), the HTML escaper, and [`render`], which fills the page. The page's markup
//! is an askama template, `templates/compare/report.html`: it reads and is reviewed as
//! HTML rather than as hundreds of string pushes, askama checks it against [`Page`] when
//! the crate compiles (a misspelt field or filter is a build error, not a broken report),
//! and it is compiled into the binary, so nothing is loaded at run time and the binary
//! needs no template files beside it. askama keeps the template's whitespace as written,
//! with explicit trimming where a line break must not reach the page, so the output stays
//! byte for byte what it was when the page was assembled by hand.

use std::error::Error as StdError;
use std::path::PathBuf;

use askama::Template;
// Named imports only: plotters' prelude has its own `Histogram`, which would clash with
// the report's.
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::{
    Cartesian2d, ChartBuilder, ChartContext, Circle, Color, DashedLineSeries, DrawingArea,
    IntoDrawingArea, IntoFont, LineSeries, PathElement, PointSeries, RGBColor, Rectangle,
    SVGBackend, SeriesLabelPosition, ShapeStyle, TextStyle, WHITE,
};

use super::report::*;
use crate::error::Error;

/// Colour of everything about the rule score (charts, and the template's CSS legend
/// swatches, `.rule`).
const RULE_COLOR: RGBColor = RGBColor(0xd9, 0x5f, 0x02);
/// Colour of everything about the predictive score (`.model` in the template's CSS).
const MODEL_COLOR: RGBColor = RGBColor(0x1f, 0x6f, 0xb4);
/// The "no skill" diagonals.
const DIAGONAL_COLOR: RGBColor = RGBColor(0x99, 0x99, 0x99);
/// Won leads in the distributions.
const WON_COLOR: RGBColor = RGBColor(0x2e, 0x8b, 0x57);
/// Lost leads in the distributions.
const LOST_COLOR: RGBColor = RGBColor(0xb0, 0xb0, 0xb0);
/// Grid lines at the labelled ticks.
const GRID_COLOR: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);
/// Grid lines between the labelled ticks.
const FINE_GRID_COLOR: RGBColor = RGBColor(0xf4, 0xf4, 0xf4);

/// Size of the three square-ish charts, in SVG pixels.
const CHART_SIZE: (u32, u32) = (540, 420);
/// Size of the distributions chart (two panels side by side).
const DISTRIBUTION_SIZE: (u32, u32) = (1040, 340);

/// Font family written into the SVG; the browser resolves it, nothing is embedded.
const FONT: &str = "sans-serif";

/// Whatever a chart drawing can fail with (plotters' errors are generic over the backend).
type ChartResult<T> = Result<T, Box<dyn StdError>>;

/// A chart with two `f64` axes on the SVG backend.
type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

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

/// The page's failure as the crate's output error, naming the part that failed.
fn output_error(part: &str, message: String) -> Error {
    Error::output(
        PathBuf::from(format!("HTML report ({part})")),
        std::io::Error::other(message),
    )
}

/// The template's filters: the number formats below, for `{{ g.won_rate|pct }}` and the
/// like. Each takes the figure by reference, as askama passes it, and cannot fail.
mod filters {
    use super::Interval;
    use askama::{Result, Values};

    #[askama::filter_fn]
    pub fn num(value: &f64, _: &dyn Values, decimals: usize) -> Result<String> {
        Ok(super::num(*value, decimals))
    }

    #[askama::filter_fn]
    pub fn opt(value: &Option<f64>, _: &dyn Values, decimals: usize) -> Result<String> {
        Ok(super::opt(*value, decimals))
    }

    #[askama::filter_fn]
    pub fn pct(share: &f64, _: &dyn Values) -> Result<String> {
        Ok(super::pct(*share))
    }

    #[askama::filter_fn]
    pub fn pct0(share: &f64, _: &dyn Values) -> Result<String> {
        Ok(super::pct0(*share))
    }

    #[askama::filter_fn]
    pub fn lift(value: &f64, _: &dyn Values) -> Result<String> {
        Ok(super::lift(*value))
    }

    #[askama::filter_fn]
    pub fn points(value: &f64, _: &dyn Values) -> Result<String> {
        Ok(super::points(*value))
    }

    #[askama::filter_fn]
    pub fn interval(i: &Interval, _: &dyn Values) -> Result<String> {
        Ok(super::interval(*i))
    }

    #[askama::filter_fn]
    pub fn won_figure(won: &f64, _: &dyn Values) -> Result<String> {
        Ok(super::won_figure(*won))
    }
}

// ---------------------------------------------------------------------------------------
// Charts
// ---------------------------------------------------------------------------------------

/// Runs one chart drawing and turns its failure into the crate's error.
fn chart(name: &str, draw: impl FnOnce() -> ChartResult<String>) -> Result<String, Error> {
    draw().map_err(|e| output_error(name, format!("drawing failed: {e}")))
}

/// ROC curves of both scores with the chance diagonal.
fn roc_svg(report: &Comparison) -> ChartResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = unit_chart(&root)?;
        unit_mesh(
            &mut chart,
            "false positive rate (share of lost deals flagged)",
            "true positive rate (share of won deals flagged)",
        )?;
        diagonal(&mut chart, "chance")?;
        for (side, color) in [(&report.rule, RULE_COLOR), (&report.model, MODEL_COLOR)] {
            chart
                .draw_series(LineSeries::new(
                    finite(&side.roc_curve),
                    color.stroke_width(2),
                ))?
                .label(format!(
                    "{} (AUC {})",
                    side.name,
                    num(side.roc_auc.value, 3)
                ))
                .legend(move |(x, y)| legend_line(x, y, color));
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        root.present()?;
    }
    Ok(svg)
}

/// Cumulative gains of both scores from the deciles, with the random-order diagonal.
fn gains_svg(report: &Comparison) -> ChartResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = unit_chart(&root)?;
        unit_mesh(
            &mut chart,
            "share of leads called",
            "share of won deals found",
        )?;
        diagonal(&mut chart, "random order")?;
        for (side, color) in [(&report.rule, RULE_COLOR), (&report.model, MODEL_COLOR)] {
            let curve = gains_curve(&side.gains);
            chart
                .draw_series(LineSeries::new(curve.clone(), color.stroke_width(2)))?
                .label(side.name.clone())
                .legend(move |(x, y)| legend_line(x, y, color));
            chart.draw_series(PointSeries::of_element(
                curve,
                3,
                color.filled(),
                &|c, s, st| Circle::new(c, s, st),
            ))?;
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        root.present()?;
    }
    Ok(svg)
}

/// The gains curve: (share of leads called, share of won deals found), from (0, 0).
///
/// The share of leads comes from the decile sizes (deciles need not be exactly equal);
/// when the sizes are missing it falls back to decile number over decile count.
fn gains_curve(gains: &[GainRow]) -> Vec<(f64, f64)> {
    let total: usize = gains.iter().map(|g| g.leads).sum();
    let mut called = 0usize;
    let mut curve = vec![(0.0, 0.0)];
    for (i, g) in gains.iter().enumerate() {
        called += g.leads;
        let x = if total > 0 {
            called as f64 / total as f64
        } else {
            (i + 1) as f64 / gains.len() as f64
        };
        if x.is_finite() && g.cumulative_won_share.is_finite() {
            curve.push((x, g.cumulative_won_share));
        }
    }
    curve
}

/// Reliability of the probability: mean predicted against won rate per bin.
fn calibration_svg(report: &Comparison) -> ChartResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = unit_chart(&root)?;
        unit_mesh(
            &mut chart,
            "mean predicted probability",
            "observed won rate",
        )?;
        diagonal(&mut chart, "perfectly calibrated")?;
        let points: Vec<(f64, f64)> = report
            .calibration
            .iter()
            .filter(|b| b.leads > 0)
            .map(|b| (b.mean_predicted, b.won_rate))
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), MODEL_COLOR.stroke_width(2)))?
            .label(report.model.name.clone())
            .legend(|(x, y)| legend_line(x, y, MODEL_COLOR));
        chart.draw_series(PointSeries::of_element(
            points,
            4,
            MODEL_COLOR.filled(),
            &|c, s, st| Circle::new(c, s, st),
        ))?;
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        root.present()?;
    }
    Ok(svg)
}

/// Two histogram panels in one SVG: rule points and probability, won against lost.
fn distributions_svg(report: &Comparison) -> ChartResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, DISTRIBUTION_SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let panels = root.split_evenly((1, 2));
        histogram_panel(
            &panels[0],
            &format!("{} by outcome", report.rule.name),
            &report.distributions.points,
            false,
        )?;
        histogram_panel(
            &panels[1],
            &format!("{} by outcome", report.model.name),
            &report.distributions.probability,
            true,
        )?;
        root.present()?;
    }
    Ok(svg)
}

/// One histogram: per bin, the share of won leads and the share of lost leads in it, as
/// two bars side by side. Shares rather than counts, because won deals are usually far
/// fewer than lost ones and their shape would vanish next to them.
fn histogram_panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    title: &str,
    hist: &Histogram,
    as_percent: bool,
) -> ChartResult<()> {
    let bins = hist
        .edges
        .len()
        .saturating_sub(1)
        .min(hist.won.len())
        .min(hist.lost.len());
    let edges = &hist.edges[..(bins + 1).min(hist.edges.len())];
    let usable = bins > 0
        && edges.iter().all(|e| e.is_finite())
        && edges.windows(2).all(|w| w[0] <= w[1])
        && edges[0] < edges[bins];
    if !usable {
        let style = TextStyle::from((FONT, 15).into_font());
        area.draw_text(&format!("{title}: no data"), &style, (20, 30))?;
        return Ok(());
    }
    let won_total: usize = hist.won[..bins].iter().sum();
    let lost_total: usize = hist.lost[..bins].iter().sum();
    let share = |count: usize, total: usize| {
        if total == 0 {
            0.0
        } else {
            count as f64 / total as f64
        }
    };
    let y_max = (0..bins)
        .flat_map(|i| {
            [
                share(hist.won[i], won_total),
                share(hist.lost[i], lost_total),
            ]
        })
        .fold(0.0f64, f64::max);
    // Headroom above the tallest bar for the legend.
    let y_max = if y_max > 0.0 { y_max * 1.35 } else { 1.0 };

    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 16))
        .margin(10)
        .margin_right(24)
        .x_label_area_size(44)
        .y_label_area_size(54)
        .build_cartesian_2d(edges[0]..edges[bins], 0.0..y_max)?;
    let x_formatter = |v: &f64| {
        if as_percent {
            format!("{:.0}%", v * 100.0)
        } else {
            format!("{v:.0}")
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(FINE_GRID_COLOR)
        .bold_line_style(GRID_COLOR)
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .x_labels(8)
        .y_labels(6)
        .x_label_formatter(&x_formatter)
        .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
        .x_desc(if as_percent {
            "predicted probability"
        } else {
            "rule points"
        })
        .y_desc("share of leads with this outcome")
        .draw()?;

    let bar = |i: usize, count: usize, total: usize, right: bool| {
        let (from, to) = (edges[i], edges[i + 1]);
        let width = to - from;
        let (x0, x1) = if right {
            (from + width * 0.5, to - width * 0.06)
        } else {
            (from + width * 0.06, from + width * 0.5)
        };
        (x0, x1, share(count, total))
    };
    for (outcome, color, counts, total, right) in [
        ("won", WON_COLOR, &hist.won, won_total, false),
        ("lost", LOST_COLOR, &hist.lost, lost_total, true),
    ] {
        chart
            .draw_series((0..bins).map(|i| {
                let (x0, x1, y) = bar(i, counts[i], total, right);
                Rectangle::new([(x0, 0.0), (x1, y)], color.filled())
            }))?
            .label(format!("{outcome} ({total} leads)"))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    Ok(())
}

/// A 0..1 × 0..1 chart area with room for axis labels.
fn unit_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
) -> ChartResult<Chart<'a, 'b>> {
    Ok(ChartBuilder::on(root)
        .margin(14)
        .x_label_area_size(46)
        .y_label_area_size(58)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)?)
}

/// Grid, percent tick labels and axis titles for a unit chart.
fn unit_mesh(chart: &mut Chart<'_, '_>, x_desc: &str, y_desc: &str) -> ChartResult<()> {
    chart
        .configure_mesh()
        .light_line_style(FINE_GRID_COLOR)
        .bold_line_style(GRID_COLOR)
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&|v| format!("{:.0}%", v * 100.0))
        .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()?;
    Ok(())
}

/// The dashed no-skill diagonal from (0, 0) to (1, 1).
fn diagonal(chart: &mut Chart<'_, '_>, label: &str) -> ChartResult<()> {
    let style = ShapeStyle::from(&DIAGONAL_COLOR).stroke_width(1);
    chart
        .draw_series(DashedLineSeries::new(
            vec![(0.0, 0.0), (1.0, 1.0)],
            6,
            5,
            style,
        ))?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    Ok(())
}

/// The legend box, in the corner where the curves leave room.
fn legend<'a, 'b: 'a>(chart: &mut Chart<'a, 'b>, position: SeriesLabelPosition) -> ChartResult<()> {
    chart
        .configure_series_labels()
        .position(position)
        .margin(12)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.9))
        .border_style(GRID_COLOR)
        .draw()?;
    Ok(())
}

/// The short line that stands for a curve in a legend.
fn legend_line(x: i32, y: i32, color: RGBColor) -> PathElement<(i32, i32)> {
    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
}

/// The points of a curve that can be drawn (NaN would land at a corner).
fn finite(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect()
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

/// What stands for a missing figure.
const MISSING: &str = "\u{2013}";

/// A number with `decimals` decimals, or "–" when not finite.
fn num(value: f64, decimals: usize) -> String {
    if value.is_finite() {
        format!("{value:.decimals$}")
    } else {
        MISSING.to_owned()
    }
}

/// An optional metric (absent for the rule score, which is not a probability).
fn opt(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| MISSING.to_owned(), |v| num(v, decimals))
}

/// A share as a percentage with one decimal, or "–".
fn pct(share: f64) -> String {
    if share.is_finite() {
        format!("{:.1}%", share * 100.0)
    } else {
        MISSING.to_owned()
    }
}

/// A bin edge as a whole percentage, or "–".
fn pct0(share: f64) -> String {
    if share.is_finite() {
        format!("{:.0}%", share * 100.0)
    } else {
        MISSING.to_owned()
    }
}

/// A lift such as "2.35×", or "–".
fn lift(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.2}\u{d7}")
    } else {
        MISSING.to_owned()
    }
}

/// Rule points: whole numbers without decimals, otherwise one decimal.
fn points(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 {
        num(value, 0)
    } else {
        num(value, 1)
    }
}

/// "0.712 [0.690, 0.735]".
fn interval(i: Interval) -> String {
    format!(
        "{} [{}, {}]",
        num(i.value, 3),
        num(i.low, 3),
        num(i.high, 3)
    )
}

/// A decile's won count: whole when it is, one decimal when ties were shared.
fn won_figure(won: f64) -> String {
    if (won - won.round()).abs() < 1e-9 {
        format!("{won:.0}")
    } else {
        format!("{won:.1}")
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
