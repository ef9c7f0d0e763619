//! The point-in-time feature pipeline: where training observations are cut
//! ([`cutoffs`]) and the frozen feature spec that builds the same columns for training
//! and scoring ([`spec`]), with the rule model's scores as optional features (`rules`).

pub(crate) mod activity;
pub mod cutoffs;
pub mod descriptor;
pub(crate) mod matrix;
pub(crate) mod numeric;
pub(crate) mod rules;
pub mod spec;
