//! What each feature column is: its kind, event, detail, window, attribute and value.
//! The spec lists its columns as these descriptors (`FeatureSpec::features`); the
//! names in artifacts and reports are drawn from them, and reasons and suggested rules
//! read the descriptors rather than parse names back.

use super::spec::{FeatureSpec, Topic, NUMERIC_LOG, NUMERIC_VALUE, OTHER, WINDOWS};

/// One feature column.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Feature {
    /// log(1 + how often) an event type (`None`: any type without a column of its own),
    /// or one of its details, happened in a window (days; `None`: all time).
    Count {
        /// The event type, or `None` for the others together.
        event: Option<String>,
        /// The detail (e.g. a page), when the count is of one.
        detail: Option<String>,
        /// The window in days, or `None` for all time.
        window: Option<u32>,
    },
    /// log(1 + days since the last activity); the lead's age when it never did anything.
    DaysSinceLast,
    /// 1 when the lead never did anything.
    NeverActive,
    /// log(1 + distinct active days in the last 90).
    ActiveDays90,
    /// log(1 + the lead's age in days).
    LeadAge,
    /// A categorical attribute's one-hot column.
    Category {
        /// The attribute.
        column: String,
        /// Which of its values.
        value: CategoryValue,
    },
    /// A numeric attribute's value, signed log or missing flag.
    Number {
        /// The attribute.
        column: String,
        /// Which of its columns.
        form: NumberForm,
    },
    /// The rule model's fit points.
    RuleFitPoints,
    /// The rule model's engagement points.
    RuleEngagementPoints,
    /// 1 when the rule model gives this fit grade.
    RuleGrade(String),
}

/// Which value of a category a one-hot column is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum CategoryValue {
    /// A value kept by the spec.
    Value(String),
    /// Any other value.
    Other,
    /// No value.
    Missing,
}

/// Which column of a numeric attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum NumberForm {
    /// The value (missing imputed by the model).
    Value,
    /// Its signed log.
    Log,
    /// 1 when it is missing.
    Missing,
}

impl Feature {
    /// The column's name, as artifacts, `inspect` and the matrices' oracles give it.
    pub(crate) fn name(&self) -> String {
        let window = |window: &Option<u32>| window.map_or("all".to_string(), |d| format!("{d}d"));
        match self {
            Feature::Count {
                event,
                detail,
                window: w,
            } => {
                let event = event.as_deref().unwrap_or(OTHER);
                match detail {
                    Some(detail) => format!("{event}[{detail}]_{}", window(w)),
                    None => format!("{event}_{}", window(w)),
                }
            }
            Feature::DaysSinceLast => "days_since_last_log".into(),
            Feature::NeverActive => "never_active".into(),
            Feature::ActiveDays90 => "active_days_90d_log".into(),
            Feature::LeadAge => "lead_age_days_log".into(),
            Feature::Category { column, value } => match value {
                CategoryValue::Value(value) => format!("{column}={value}"),
                CategoryValue::Other => format!("{column}=<other>"),
                CategoryValue::Missing => format!("{column}=<missing>"),
            },
            Feature::Number { column, form } => match form {
                NumberForm::Value => format!("{column}{NUMERIC_VALUE}"),
                NumberForm::Log => format!("{column}{NUMERIC_LOG}"),
                NumberForm::Missing => format!("{column}=<missing>"),
            },
            Feature::RuleFitPoints => "rule_fit_points".into(),
            Feature::RuleEngagementPoints => "rule_engagement_points".into(),
            Feature::RuleGrade(grade) => format!("rule_grade={grade}"),
        }
    }

    /// What the column is about (see [`FeatureSpec::topics`]).
    pub(crate) fn topic(&self) -> Topic {
        match self {
            Feature::Count { event, detail, .. } => Topic::Activity(
                event.clone().unwrap_or_else(|| OTHER.to_string()),
                detail.clone(),
            ),
            Feature::DaysSinceLast | Feature::NeverActive => Topic::Recency,
            Feature::ActiveDays90 => Topic::ActiveDays,
            Feature::LeadAge => Topic::LeadAge,
            Feature::Category { column, .. } => Topic::Category(column.clone()),
            Feature::Number { column, .. } => Topic::Number(column.clone()),
            rule => Topic::Rule(rule.name()),
        }
    }
}

impl FeatureSpec {
    /// Every column, in matrix order.
    pub(crate) fn features(&self) -> Vec<Feature> {
        let mut features = Vec::new();
        for window in WINDOWS {
            let events = self.event_types.iter().map(|e| Some(e.clone()));
            for event in events.chain([None]) {
                features.push(Feature::Count {
                    event,
                    detail: None,
                    window,
                });
            }
            for (event, detail) in &self.details {
                features.push(Feature::Count {
                    event: Some(event.clone()),
                    detail: Some(detail.clone()),
                    window,
                });
            }
        }
        features.extend([
            Feature::DaysSinceLast,
            Feature::NeverActive,
            Feature::ActiveDays90,
            Feature::LeadAge,
        ]);
        for (column, values) in &self.categoricals {
            let kept = values.iter().map(|v| CategoryValue::Value(v.clone()));
            for value in kept.chain([CategoryValue::Other, CategoryValue::Missing]) {
                features.push(Feature::Category {
                    column: column.clone(),
                    value,
                });
            }
        }
        for column in &self.numerics {
            let mut forms = vec![NumberForm::Value];
            if self.numeric_logs.contains(column) {
                forms.push(NumberForm::Log);
            }
            forms.push(NumberForm::Missing);
            for form in forms {
                features.push(Feature::Number {
                    column: column.clone(),
                    form,
                });
            }
        }
        if let Some(rules) = &self.rules {
            features.extend([Feature::RuleFitPoints, Feature::RuleEngagementPoints]);
            features.extend(rules.grades.iter().cloned().map(Feature::RuleGrade));
        }
        features
    }
}
