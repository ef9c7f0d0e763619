//! The predictive model: the training matrix ([`matrix`]), the fit ([`train`], its
//! solver and the L2 choice), training end to end (`pipeline`), the artifact's
//! envelope ([`artifact`]), scoring with reasons ([`score`]), drift references, backtests
//! ([`backtest`]) and judging scores on the leads open at evaluation dates ([`judging`]).

pub mod artifact;
pub mod backtest;
pub(crate) mod drift;
pub mod features_source;
pub mod judging;
mod kernels;
pub mod matrix;
pub(crate) mod pipeline;
pub(crate) mod reasons;
pub(crate) mod sample;
pub mod score;
pub(crate) mod select;
pub(crate) mod solver;
pub(crate) mod source;
pub mod summary;
pub mod train;

pub use features_source::train_on_features;
pub use pipeline::{train_model, Model, TrainChoices};
