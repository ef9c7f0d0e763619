//! The point-in-time feature pipeline: where training observations are cut
//! ([`cutoffs`]) and the frozen feature spec that builds the same columns for training
//! and scoring ([`spec`]).

pub mod cutoffs;
pub mod spec;
