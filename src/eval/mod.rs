//! Judging scores against outcomes: ranking metrics shared by tests, training reports
//! and the rule-versus-model comparison.

pub mod curves;
pub mod metrics;
pub mod paired;
