//! The few lines `train` prints and `inspect` starts with: what the model is and how
//! it did on the period it never saw.

use crate::data::timestamp::format_timestamp;
use crate::model::Model;

/// The holdout metrics and what the model is, in a few lines.
pub(crate) fn summary(model: &Model) -> String {
    let h = &model.holdout;
    let l2 = if model.l2_search.is_empty() {
        format!("L2 {} (fixed)", model.fit.l2)
    } else {
        format!(
            "L2 {} (chosen on later deals from {}){}",
            model.fit.l2,
            model
                .l2_search
                .iter()
                .map(|t| format!("{}: log loss {:.4}", t.l2, t.log_loss))
                .collect::<Vec<_>>()
                .join(", "),
            model
                .l2_note
                .as_ref()
                .map_or(String::new(), |note| format!("; {note}"))
        )
    };
    format!(
        "model: {} features, data as of {}, fingerprint {}\n\
         {l2}\n\
         holdout (trained on the deals closed before {}, judged on the {} later deals open at evaluation dates {} apart, {} date-lead pairs, each as of its date): \
         ROC AUC {:.3}, PR AUC {:.3}, lift in top decile {:.2}, log loss {:.4}, Brier {:.4}, base rate {:.3}\n",
        model.feature_names.len(),
        format_timestamp(model.data_as_of),
        model.data_fingerprint,
        format_timestamp(h.split_at),
        h.leads,
        crate::model::reasons::days_text(h.every_days),
        h.rows,
        h.roc_auc,
        h.pr_auc,
        h.lift_top_decile,
        h.log_loss,
        h.brier,
        h.base_rate
    )
}
