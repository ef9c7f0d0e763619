//! The point-in-time feature pipeline. So far: where training observations are cut
//! ([`cutoffs`]); the feature spec and its polars plan follow.

pub mod cutoffs;
