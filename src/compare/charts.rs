//! The comparison's four charts, drawn with `plotters` into SVG documents that the HTML
//! page inlines: ROC, cumulative gains, calibration and the two score distributions.
//! Their text is plain SVG `<text>` (no font files, no system font libraries), so the
//! browser picks the font and the page needs nothing beside it.

use std::error::Error as StdError;

// Named imports only: plotters' prelude has its own `Histogram`, which would clash with
// the report's.
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::{
    Cartesian2d, ChartBuilder, ChartContext, Circle, Color, DashedLineSeries, DrawingArea,
    IntoDrawingArea, IntoFont, LineSeries, PathElement, PointSeries, RGBColor, Rectangle,
    SVGBackend, SeriesLabelPosition, ShapeStyle, TextStyle, WHITE,
};

use super::format::num;
use super::report::{Comparison, GainRow, Histogram};

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
pub(super) type ChartResult<T> = Result<T, Box<dyn StdError>>;

/// A chart with two `f64` axes on the SVG backend.
type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// ROC curves of both scores with the chance diagonal.
pub(super) fn roc_svg(report: &Comparison) -> ChartResult<String> {
    let frame = UnitFrame {
        x_desc: "false positive rate (share of lost deals flagged)",
        y_desc: "true positive rate (share of won deals flagged)",
        diagonal: "chance",
        legend_at: SeriesLabelPosition::LowerRight,
    };
    frame.draw(|chart| {
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
        Ok(())
    })
}

/// Cumulative gains of both scores from the deciles, with the random-order diagonal.
pub(super) fn gains_svg(report: &Comparison) -> ChartResult<String> {
    let frame = UnitFrame {
        x_desc: "share of leads called",
        y_desc: "share of won deals found",
        diagonal: "random order",
        legend_at: SeriesLabelPosition::LowerRight,
    };
    frame.draw(|chart| {
        for (side, color) in [(&report.rule, RULE_COLOR), (&report.model, MODEL_COLOR)] {
            let curve = gains_curve(&side.gains);
            chart
                .draw_series(LineSeries::new(curve.clone(), color.stroke_width(2)))?
                .label(side.name.clone())
                .legend(move |(x, y)| legend_line(x, y, color));
            dots(chart, curve, 3, color)?;
        }
        Ok(())
    })
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
pub(super) fn calibration_svg(report: &Comparison) -> ChartResult<String> {
    let frame = UnitFrame {
        x_desc: "mean predicted probability",
        y_desc: "observed won rate",
        diagonal: "perfectly calibrated",
        legend_at: SeriesLabelPosition::UpperLeft,
    };
    let points: Vec<(f64, f64)> = report
        .calibration
        .iter()
        .filter(|b| b.leads > 0)
        .map(|b| (b.mean_predicted, b.won_rate))
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    frame.draw(|chart| {
        chart
            .draw_series(LineSeries::new(points.clone(), MODEL_COLOR.stroke_width(2)))?
            .label(report.model.name.clone())
            .legend(|(x, y)| legend_line(x, y, MODEL_COLOR));
        dots(chart, points, 4, MODEL_COLOR)
    })
}

/// Markers on a curve's points.
fn dots(
    chart: &mut Chart<'_, '_>,
    points: Vec<(f64, f64)>,
    size: i32,
    color: RGBColor,
) -> ChartResult<()> {
    chart.draw_series(PointSeries::of_element(
        points,
        size,
        color.filled(),
        &|c, s, st| Circle::new(c, s, st),
    ))?;
    Ok(())
}

/// Two histogram panels in one SVG: rule points and probability, won against lost.
pub(super) fn distributions_svg(report: &Comparison) -> ChartResult<String> {
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

/// The frame the three square charts share: both axes from 0% to 100% with a grid and
/// titles, the dashed no-skill diagonal, and a legend where the curves leave room.
struct UnitFrame {
    x_desc: &'static str,
    y_desc: &'static str,
    /// What the diagonal means on this chart, for the legend.
    diagonal: &'static str,
    legend_at: SeriesLabelPosition,
}

impl UnitFrame {
    /// The chart as an SVG document, with `curves` drawn inside the frame.
    fn draw(
        self,
        curves: impl FnOnce(&mut Chart<'_, '_>) -> ChartResult<()>,
    ) -> ChartResult<String> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
            root.fill(&WHITE)?;
            let mut chart = ChartBuilder::on(&root)
                .margin(14)
                .x_label_area_size(46)
                .y_label_area_size(58)
                .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
            let (x_desc, y_desc) = (self.x_desc, self.y_desc);
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
            diagonal(&mut chart, self.diagonal)?;
            curves(&mut chart)?;
            legend(&mut chart, self.legend_at)?;
            root.present()?;
        }
        Ok(svg)
    }
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
