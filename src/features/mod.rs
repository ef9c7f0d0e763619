//! The point-in-time feature pipeline: where training observations are cut
//! ([`cutoffs`]) and the frozen feature spec that builds the same columns for training
//! and scoring ([`spec`]), with the rule model's scores as optional features ([`rules`]).

pub mod activity;
pub mod cutoffs;
pub mod descriptor;
pub mod matrix;
pub mod numeric;
pub mod rules;
pub mod spec;
