//! The predictive model: the matrix hand-over from polars to linfa ([`matrix`]),
//! the fit ([`train`]), training end to end ([`pipeline`]) and the artifact's
//! envelope ([`artifact`]).

pub mod artifact;
pub mod backtest;
pub mod drift;
pub mod judging;
mod kernels;
pub mod matrix;
pub mod pipeline;
pub mod reasons;
pub mod sample;
pub mod score;
pub mod select;
pub mod solver;
pub mod summary;
pub mod train;

pub use pipeline::{train_model, Model, TrainChoices};
