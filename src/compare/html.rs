//! The comparison as one self-contained HTML page, for sales ops who open it in a browser
//! rather than read JSON.
//!
//! The page has no outside references at all (no scripts, stylesheets, fonts, images or
//! web links): it is mailed around and opened on locked-down machines, and it must look the
//! same offline years later. Charts are drawn with `plotters` into SVG strings that are
//! inlined; their text is plain SVG `<text>` (no font files, no system font libraries), so
//! the browser picks the font. Every figure shown in a chart is also given as a table.

use std::error::Error as StdError;
use std::fmt::Write as _;
use std::path::PathBuf;

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

/// Colour of everything about the rule score (charts and the CSS legend swatches).
const RULE_COLOR: RGBColor = RGBColor(0xd9, 0x5f, 0x02);
/// Colour of everything about the predictive score.
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
/// Fails only if drawing a chart fails, which is reported as an output error (the page
/// could not be produced; nothing is wrong with the user's input).
pub fn render(report: &Comparison) -> Result<String, Error> {
    let roc = chart("ROC chart", || roc_svg(report))?;
    let gains = chart("gains chart", || gains_svg(report))?;
    let calibration = chart("calibration chart", || calibration_svg(report))?;
    let distributions = chart("distributions chart", || distributions_svg(report))?;

    let mut page = String::with_capacity(64 * 1024);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    page.push_str("<title>Lead scoring: rule score vs predictive score</title>\n");
    page.push_str("<style>\n");
    page.push_str(CSS);
    page.push_str("</style>\n</head>\n<body>\n<main>\n");

    header(&mut page, report);
    same_volume(&mut page, report);
    headline(&mut page, report);

    page.push_str("<section>\n<h2>Ranking: who gets called first</h2>\n<div class=\"charts\">\n");
    figure(
        &mut page,
        "ROC curves",
        &roc,
        "Each curve shows how many won deals (up) a score flags for how many lost deals \
         (right) as its threshold is lowered. Higher and further left is better; the grey \
         diagonal is a coin toss.",
    );
    figure(
        &mut page,
        "Cumulative gains",
        &gains,
        "Calling leads from the highest score down: the share of all won deals found (up) \
         after calling a given share of leads (right). The grey diagonal is calling in \
         random order.",
    );
    page.push_str("</div>\n");
    gains_table(&mut page, report);
    page.push_str("</section>\n");

    page.push_str("<section>\n<h2>Rule tiers and grades</h2>\n<div class=\"pair\">\n");
    group_table(&mut page, "Won rate per tier", "Tier", &report.tiers);
    group_table(&mut page, "Won rate per grade", "Grade", &report.grades);
    page.push_str("</div>\n</section>\n");

    page.push_str(
        "<section>\n<h2>Is the probability a probability?</h2>\n<div class=\"charts\">\n",
    );
    figure(
        &mut page,
        "Calibration of the predictive score",
        &calibration,
        "Leads grouped by predicted probability: the mean prediction (right) against the \
         share that was actually won (up). On the grey diagonal, \u{201c}30%\u{201d} means \
         three in ten are won.",
    );
    calibration_table(&mut page, report);
    page.push_str("</div>\n</section>\n");

    page.push_str("<section>\n<h2>Score distributions by outcome</h2>\n");
    figure(
        &mut page,
        "Won and lost leads per score range",
        &distributions,
        "Share of won leads and share of lost leads in each score range, for each score. \
         The less the two overlap, the better the score separates them.",
    );
    page.push_str("</section>\n");

    periods_table(&mut page, report);
    rule_checks_table(&mut page, report);
    disagreements_table(&mut page, report);

    page.push_str("</main>\n</body>\n</html>\n");
    Ok(page)
}

/// The page's stylesheet: short, print-friendly, no web fonts.
const CSS: &str = "\
body{margin:0;background:#f6f7f9;color:#1d2430;\
font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,Helvetica,Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:19px;margin:0 0 12px}
h3{font-size:15px;margin:0 0 6px}
section{background:#fff;border:1px solid #e1e4e8;border-radius:8px;padding:18px 20px;margin:18px 0}
.meta{color:#5a6472;font-size:13px;margin:0}
.meta code{font-size:12px}
.warn{background:#fff6e0;border-left:4px solid #e0a100;padding:8px 12px;margin:12px 0 0;font-size:14px}
.answer{font-size:21px;line-height:1.35;font-weight:600;margin:0 0 14px}
.stats{display:flex;flex-wrap:wrap;gap:12px}
.stat{border:1px solid #e1e4e8;border-radius:6px;padding:8px 14px;min-width:130px}
.stat b{display:block;font-size:22px}
.stat span{color:#5a6472;font-size:13px}
.charts{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
.pair{display:flex;flex-wrap:wrap;gap:28px;align-items:flex-start}
figure{margin:0 0 12px}
figure svg{max-width:100%;height:auto;display:block}
figcaption{color:#5a6472;font-size:13px;max-width:540px;margin-top:4px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:14px;margin:4px 0 12px}
th,td{padding:4px 10px;border-bottom:1px solid #e6e8eb;text-align:left;vertical-align:top}
th{background:#f0f2f5;font-weight:600}
thead tr.group th{background:#fff;border-bottom:none;text-align:center}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tbody tr:nth-child(even){background:#fafbfc}
td.reasons{font-size:13px;white-space:pre-line;min-width:220px}
.key{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.rule{background:#d95f02}
.model{background:#1f6fb4}
.won{color:#2e8b57;font-weight:600}
.lost{color:#6b7280}
@media print{body{background:#fff}section{border:none;padding:0}}
";

// ---------------------------------------------------------------------------------------
// Page sections
// ---------------------------------------------------------------------------------------

/// Title, provenance and the training-period warning.
fn header(page: &mut String, report: &Comparison) {
    page.push_str("<header>\n<h1>Rule score vs predictive score</h1>\n");
    let _ = writeln!(
        page,
        "<p class=\"meta\">{} judged (date, open lead) pairs, {} won ({}): {}. \
         leadscore {}, model <code>{}</code>.</p>",
        report.leads,
        won_count(report),
        pct(report.base_rate),
        esc(&report.cutoff),
        esc(&report.leadscore_version),
        esc(&report.model_fingerprint),
    );
    if report.leads_in_training_period > 0 {
        let _ = writeln!(
            page,
            "<p class=\"warn\">{} of these {} pairs are dated inside the model's training \
             data, so the model has seen their deals: its figures are optimistic. Train with \
             <code>--until</code> to keep a later period unseen.</p>",
            report.leads_in_training_period, report.leads,
        );
    }
    page.push_str("</header>\n");
}

/// The business answer, first and large: same call volume, who finds more won deals.
fn same_volume(page: &mut String, report: &Comparison) {
    let s = &report.same_volume;
    page.push_str("<section>\n<h2>Same call volume, chosen by each score</h2>\n");
    let _ = writeln!(page, "<p class=\"answer\">{}</p>", esc(&s.sentence));
    let difference = s.won_by_model as i64 - s.won_by_rule as i64;
    page.push_str("<div class=\"stats\">\n");
    stat(
        page,
        &s.calls.to_string(),
        &format!(
            "calls (leads in <code>{}</code> or above)",
            esc(&s.action_tier)
        ),
    );
    stat(
        page,
        &s.won_by_rule.to_string(),
        "<i class=\"key rule\"></i>won deals among the rule's choice",
    );
    stat(
        page,
        &s.won_by_model.to_string(),
        "<i class=\"key model\"></i>won deals among the model's choice",
    );
    stat(
        page,
        &format!("{difference:+}"),
        "won deals, model minus rule",
    );
    page.push_str("</div>\n</section>\n");
}

/// One boxed figure; `label` is trusted HTML (callers escape data in it).
fn stat(page: &mut String, value: &str, label: &str) {
    let _ = writeln!(
        page,
        "<div class=\"stat\"><b>{}</b><span>{label}</span></div>",
        esc(value)
    );
}

/// ROC AUC, PR AUC (with intervals), log loss and Brier for both scores.
fn headline(page: &mut String, report: &Comparison) {
    page.push_str("<section>\n<h2>Headline metrics</h2>\n<table>\n<thead><tr><th>Metric</th>");
    let _ = write!(
        page,
        "<th class=\"num\"><i class=\"key rule\"></i>{}</th>\
         <th class=\"num\"><i class=\"key model\"></i>{}</th></tr></thead>\n<tbody>\n",
        esc(&report.rule.name),
        esc(&report.model.name)
    );
    let rows: [(&str, String, String); 4] = [
        (
            "ROC AUC [95% interval] \u{2014} chance of ranking a won lead above a lost one",
            interval(report.rule.roc_auc),
            interval(report.model.roc_auc),
        ),
        (
            "PR AUC [95% interval] \u{2014} precision averaged over won deals found",
            interval(report.rule.pr_auc),
            interval(report.model.pr_auc),
        ),
        (
            "Log loss (lower is better; probabilities only)",
            opt(report.rule.log_loss, 4),
            opt(report.model.log_loss, 4),
        ),
        (
            "Brier score (lower is better; probabilities only)",
            opt(report.rule.brier, 4),
            opt(report.model.brier, 4),
        ),
    ];
    for (label, rule, model) in rows {
        let _ = writeln!(
            page,
            "<tr><td>{label}</td><td class=\"num\">{rule}</td><td class=\"num\">{model}</td></tr>"
        );
    }
    let _ = writeln!(
        page,
        "</tbody>\n</table>\n<p class=\"meta\">PR AUC of a score that ranks at random \
         equals the won rate, {}. Intervals are 2.5th\u{2013}97.5th bootstrap percentiles.</p>\n\
         </section>",
        pct(report.base_rate)
    );
}

/// Decile-by-decile gains and lift for both scores, side by side.
fn gains_table(page: &mut String, report: &Comparison) {
    page.push_str(
        "<h3>Gains by decile (leads ranked from the highest score down)</h3>\n\
         <div class=\"scroll\"><table>\n<thead>\n",
    );
    let _ = writeln!(
        page,
        "<tr class=\"group\"><th></th><th colspan=\"5\"><i class=\"key rule\"></i>{}</th>\
         <th colspan=\"5\"><i class=\"key model\"></i>{}</th></tr>",
        esc(&report.rule.name),
        esc(&report.model.name)
    );
    page.push_str("<tr><th class=\"num\">Decile</th>");
    for _ in 0..2 {
        page.push_str(
            "<th class=\"num\">Leads</th><th class=\"num\">Won</th>\
             <th class=\"num\">Won rate</th><th class=\"num\">Won deals found</th>\
             <th class=\"num\">Lift</th>",
        );
    }
    page.push_str("</tr>\n</thead>\n<tbody>\n");
    let rows = report.rule.gains.len().max(report.model.gains.len());
    for i in 0..rows {
        let rule = report.rule.gains.get(i);
        let model = report.model.gains.get(i);
        let decile = rule.or(model).map_or(i + 1, |g| g.decile);
        let _ = write!(page, "<tr><td class=\"num\">{decile}</td>");
        for row in [rule, model] {
            match row {
                Some(g) => {
                    let _ = write!(
                        page,
                        "<td class=\"num\">{}</td><td class=\"num\">{}</td>\
                         <td class=\"num\">{}</td><td class=\"num\">{}</td>\
                         <td class=\"num\">{}</td>",
                        g.leads,
                        won_figure(g.won),
                        pct(g.won_rate),
                        pct(g.cumulative_won_share),
                        lift(g.cumulative_lift),
                    );
                }
                None => page.push_str(&"<td class=\"num\">\u{2013}</td>".repeat(5)),
            }
        }
        page.push_str("</tr>\n");
    }
    page.push_str(
        "</tbody>\n</table></div>\n<p class=\"meta\">\u{201c}Won deals found\u{201d} and \
         \u{201c}lift\u{201d} are cumulative: deciles 1 to this one. Lift is their won rate \
         over the overall won rate.</p>\n",
    );
}

/// Won rate per tier or per grade of the rule model.
fn group_table(page: &mut String, title: &str, column: &str, groups: &[GroupRate]) {
    let _ = writeln!(
        page,
        "<div>\n<h3>{title}</h3>\n<table>\n<thead><tr><th>{column}</th>\
         <th class=\"num\">Leads</th><th class=\"num\">Won</th>\
         <th class=\"num\">Won rate</th></tr></thead>\n<tbody>"
    );
    for g in groups {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td></tr>",
            esc(&g.name),
            g.leads,
            g.won,
            pct(g.won_rate)
        );
    }
    if groups.is_empty() {
        page.push_str("<tr><td colspan=\"4\">none</td></tr>\n");
    }
    page.push_str("</tbody>\n</table>\n</div>\n");
}

/// Each rule against history, so marketing sees which rules are wishful thinking.
fn rule_checks_table(page: &mut String, report: &Comparison) {
    page.push_str(
        "<section>\n<h2>The rule file against history</h2>\n<div class=\"scroll\">\n<table>\n\
         <thead><tr><th>Rule</th><th>Kind</th><th class=\"num\">Leads fired</th>\
         <th class=\"num\">Mean points</th><th class=\"num\">Won rate fired</th>\
         <th class=\"num\">Won rate not fired</th><th>Verdict</th></tr></thead>\n<tbody>\n",
    );
    for r in &report.rule_checks {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"{}\">{}</td></tr>",
            esc(&r.rule),
            esc(&r.kind),
            r.leads_fired,
            num(r.mean_points, 1),
            pct(r.won_rate_fired),
            pct(r.won_rate_not_fired),
            if r.agrees { "" } else { "lost" },
            esc(&r.verdict)
        );
    }
    if report.rule_checks.is_empty() {
        page.push_str("<tr><td colspan=\"7\">no rule fired</td></tr>\n");
    }
    page.push_str("</tbody>\n</table>\n</div>\n</section>\n");
}

/// Predicted against observed per probability bin.
fn calibration_table(page: &mut String, report: &Comparison) {
    page.push_str(
        "<div>\n<h3>Calibration bins</h3>\n<table>\n<thead><tr><th>Predicted</th>\
         <th class=\"num\">Leads</th><th class=\"num\">Mean predicted</th>\
         <th class=\"num\">Won rate</th></tr></thead>\n<tbody>\n",
    );
    for b in &report.calibration {
        let _ = writeln!(
            page,
            "<tr><td>{} \u{2013} {}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td></tr>",
            pct0(b.from),
            pct0(b.to),
            b.leads,
            pct(b.mean_predicted),
            pct(b.won_rate)
        );
    }
    if report.calibration.is_empty() {
        page.push_str("<tr><td colspan=\"4\">none</td></tr>\n");
    }
    page.push_str("</tbody>\n</table>\n</div>\n");
}

/// ROC AUC of both scores per period, to show whether either decays.
fn periods_table(page: &mut String, report: &Comparison) {
    page.push_str(
        "<section>\n<h2>Over time</h2>\n<table>\n<thead><tr><th>Period</th>\
         <th class=\"num\">Leads</th><th class=\"num\">Won rate</th>",
    );
    let _ = write!(
        page,
        "<th class=\"num\"><i class=\"key rule\"></i>ROC AUC, {}</th>\
         <th class=\"num\"><i class=\"key model\"></i>ROC AUC, {}</th></tr></thead>\n<tbody>\n",
        esc(&report.rule.name),
        esc(&report.model.name)
    );
    for p in &report.periods {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&p.name),
            p.leads,
            pct(p.base_rate),
            num(p.rule_roc_auc, 3),
            num(p.model_roc_auc, 3)
        );
    }
    if report.periods.is_empty() {
        page.push_str("<tr><td colspan=\"5\">none</td></tr>\n");
    }
    page.push_str(
        "</tbody>\n</table>\n<p class=\"meta\">A period with only won or only lost deals \
         has no ROC AUC (\u{2013}).</p>\n</section>\n",
    );
}

/// The leads the two scores rank most differently, with both sides' reasons.
fn disagreements_table(page: &mut String, report: &Comparison) {
    page.push_str(
        "<section>\n<h2>Where the two scores disagree most</h2>\n\
         <p class=\"meta\">Closed leads one score ranks near the top and the other near the \
         bottom, largest gap first. Percentiles: 0 lowest, 100 highest among the leads \
         judged.</p>\n<div class=\"scroll\"><table>\n<thead><tr><th>Lead</th><th>Outcome</th>\
         <th class=\"num\">Points</th><th>Tier</th><th class=\"num\">Rule pct.</th>\
         <th class=\"num\">Probability</th><th class=\"num\">Model pct.</th>\
         <th>Rule reasons</th><th>Model reasons</th></tr></thead>\n<tbody>\n",
    );
    for d in &report.disagreements {
        let class = match d.outcome.as_str() {
            "won" => "won",
            _ => "lost",
        };
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"{class}\">{}</td><td class=\"num\">{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"reasons\">{}</td><td class=\"reasons\">{}</td></tr>",
            esc(&d.lead_id),
            esc(&d.outcome),
            points(d.points),
            esc(&d.tier),
            num(d.rule_percentile, 0),
            pct(d.probability),
            num(d.model_percentile, 0),
            esc(&d.rule_reasons),
            esc(&d.model_reasons),
        );
    }
    if report.disagreements.is_empty() {
        page.push_str("<tr><td colspan=\"9\">none</td></tr>\n");
    }
    page.push_str("</tbody>\n</table></div>\n</section>\n");
}

/// A chart with its title and a one-paragraph reading aid.
fn figure(page: &mut String, title: &str, svg: &str, caption: &str) {
    let _ = writeln!(
        page,
        "<figure>\n<h3>{title}</h3>\n{svg}\n<figcaption>{caption}</figcaption>\n</figure>"
    );
}

// ---------------------------------------------------------------------------------------
// Charts
// ---------------------------------------------------------------------------------------

/// Runs one chart drawing and turns its failure into the crate's error.
fn chart(name: &str, draw: impl FnOnce() -> ChartResult<String>) -> Result<String, Error> {
    draw().map_err(|e| {
        Error::output(
            PathBuf::from(format!("HTML report ({name})")),
            std::io::Error::other(format!("drawing failed: {e}")),
        )
    })
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

/// Escapes text for HTML element content and attribute values alike.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
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
