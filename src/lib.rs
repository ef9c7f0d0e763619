//! leadscore: predictive lead scoring with a classic point model beside it.
//!
//! Data flows one way: input tables ([`data`]) are read and validated once, then turned
//! into features, a model and scores. [`generate`] makes a realistic synthetic CRM to
//! develop and test against; [`cli`] is the command line over all of it.
#![warn(missing_docs, unreachable_pub)]

pub mod bench;
pub mod cli;
pub mod compare;
pub mod data;
pub mod error;
pub mod eval;
pub mod features;
pub mod generate;
pub mod heap;
pub(crate) mod lock;
pub mod model;
pub mod observations;
pub mod output;
pub mod points;
pub mod progress;
pub mod registry;
pub mod rescore;
pub mod sql;
pub mod suggest;

pub use error::{Error, Result};
