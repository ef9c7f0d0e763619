//! The predictive model: the matrix hand-over from polars to linfa ([`matrix`]),
//! the fit ([`train`]), training end to end ([`pipeline`]) and the artifact's
//! envelope ([`artifact`]).

pub mod artifact;
pub mod backtest;
pub(crate) mod drift;
pub mod judging;
mod kernels;
pub mod matrix;
pub(crate) mod pipeline;
pub(crate) mod reasons;
pub(crate) mod sample;
pub mod score;
pub(crate) mod select;
pub(crate) mod solver;
pub mod summary;
pub mod train;

pub use pipeline::{train_model, Model, TrainChoices};
