//! `leadscore inspect`: what is in a model artifact.

use std::path::PathBuf;

use clap::Args;

use crate::error::{Error, Result};
use crate::model::artifact::{read_model, FORMAT_VERSION};
use crate::model::summary::summary;
use crate::model::train::ClassWeight;

/// Flags of `leadscore inspect`, as typed.
#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The model artifact.
    #[arg(value_name = "MODEL")]
    pub(crate) model: PathBuf,
    /// Print everything as JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Runs the command.
pub(crate) fn run(args: InspectArgs) -> Result<()> {
    let model = read_model(&args.model)?;
    if args.json {
        let json = serde_json::to_string_pretty(&model)
            .map_err(|e| Error::output("stdout", std::io::Error::other(e)))?;
        println!("{json}");
        return Ok(());
    }
    println!(
        "leadscore model, format version {FORMAT_VERSION}, trained by leadscore {}",
        model.leadscore_version
    );
    print!("{}", summary(&model));
    println!(
        "rule model: {} ({} attribute rules, {} behaviour rules, action tier {})",
        model.points.source,
        model.points.attributes.len(),
        model.points.behaviours.len(),
        model.points.action_tier_name()
    );
    println!(
        "training: L2 {} per row, class weight {}, at most {} iterations, gradient tolerance {} per row, intercept {:.4}",
        model.fit.l2,
        match model.fit.class_weight {
            ClassWeight::None => "none (probabilities at the real won rate)",
            ClassWeight::Balanced => "balanced (probabilities centred on 0.5)",
        },
        model.fit.max_iterations,
        model.fit.gradient_tolerance,
        model.linear.intercept
    );
    println!("snapshots: {}", model.cutoffs.describe());
    if let Some(note) = &model.l2_note {
        println!("L2 search: {note}");
    }
    println!(
        "coefficients (log-odds of winning per standard deviation, per unit for 0/1 columns), strongest first:"
    );
    let mut order: Vec<usize> = (0..model.feature_names.len()).collect();
    order.sort_by(|&a, &b| {
        model.linear.weights[b]
            .abs()
            .total_cmp(&model.linear.weights[a].abs())
            .then(a.cmp(&b))
    });
    for i in order {
        println!(
            "  {:>+8.4}  {}",
            model.linear.weights[i], model.feature_names[i]
        );
    }
    Ok(())
}
