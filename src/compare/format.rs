//! The comparison's number formats, shared by the HTML page and the Markdown report so
//! that both print a figure the same way: a missing figure (NaN, or absent for the rule
//! score, which is not a probability) shows as "–" in both. Only intervals differ: the
//! Markdown writes `0.712 (0.690–0.735)`, since square brackets read as links there.

use super::report::Interval;

/// What stands for a missing figure.
pub(super) const MISSING: &str = "\u{2013}";

/// A number with `decimals` decimals, or "–" when not finite.
pub(super) fn num(value: f64, decimals: usize) -> String {
    if value.is_finite() {
        format!("{value:.decimals$}")
    } else {
        MISSING.to_owned()
    }
}

/// An optional metric (absent for the rule score, which is not a probability).
pub(super) fn opt(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| MISSING.to_owned(), |v| num(v, decimals))
}

/// A share as a percentage with one decimal, or "–".
pub(super) fn pct(share: f64) -> String {
    if share.is_finite() {
        format!("{:.1}%", share * 100.0)
    } else {
        MISSING.to_owned()
    }
}

/// A bin edge as a whole percentage, or "–".
pub(super) fn pct0(share: f64) -> String {
    if share.is_finite() {
        format!("{:.0}%", share * 100.0)
    } else {
        MISSING.to_owned()
    }
}

/// A lift such as "2.35×", or "–".
pub(super) fn lift(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.2}\u{d7}")
    } else {
        MISSING.to_owned()
    }
}

/// Rule points: whole numbers without decimals, otherwise one decimal.
pub(super) fn points(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 {
        num(value, 0)
    } else {
        num(value, 1)
    }
}

/// "0.712 [0.690, 0.735]".
pub(super) fn interval(i: Interval) -> String {
    format!(
        "{} [{}, {}]",
        num(i.value, 3),
        num(i.low, 3),
        num(i.high, 3)
    )
}

/// A decile's won count: whole when it is, one decimal when ties were shared.
pub(super) fn won_figure(won: f64) -> String {
    if (won - won.round()).abs() < 1e-9 {
        format!("{won:.0}")
    } else {
        format!("{won:.1}")
    }
}
