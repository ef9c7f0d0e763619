//! The predictive model: training with linfa, the artifact that carries everything
//! scoring needs, and explanations. So far: the artifact's envelope.

pub mod artifact;
