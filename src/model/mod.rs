//! The predictive model: the matrix hand-over from polars to linfa ([`matrix`]),
//! training ([`train`]) and the artifact's envelope ([`artifact`]).

pub mod artifact;
pub mod matrix;
pub mod train;
