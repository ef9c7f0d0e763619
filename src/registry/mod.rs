//! A model registry: the models a scheduled retrain published, the one in use, and one
//! line per decision, so that a nightly job never ships a worse model unseen and a bad
//! one can be put back.
//!
//! Layout of the registry folder:
//!
//! | path | what |
//! |---|---|
//! | `models/<trained-at>-<fingerprint>.bin` | every published model, never rewritten |
//! | `current.bin` | a symbolic link to the model in use, swapped in one rename |
//! | `registry.jsonl` | one JSON line per retrain (published, kept or refused) and per rollback |
//! | `registry.lock` | held by a retrain or a rollback while it runs |
//!
//! The link is the truth about which model is in use; the lines are the record of why.
//! A model file is written whole before the link moves, and the line is written after:
//! a run killed at any moment leaves the previous model in use, or the new one in use
//! with its line missing, which the next run records as recovered.

pub mod gate;
pub mod retrain;

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::eval::curves::Interval;
use crate::lock::{Job, RunLock};
use crate::model::artifact::{encode, read_model};
use crate::model::Model;
use crate::output::{replace_link, sync_dir, write_bytes};

/// The link to the model in use, inside the registry.
pub const CURRENT: &str = "current.bin";
/// The record of decisions, inside the registry.
pub const RECORD: &str = "registry.jsonl";
/// The published models, inside the registry.
pub const MODELS: &str = "models";

/// What a line of the record says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// A retrain's candidate became the model in use.
    Published,
    /// A retrain's candidate was judged and not published; the model in use stays.
    Kept,
    /// A retrain could not judge a candidate (its input failed the checks).
    Refused,
    /// The previous model was put back.
    RolledBack,
    /// A publish whose line was lost (the run was killed after moving the link) is
    /// recorded by the next run.
    Recovered,
}

/// One line of `registry.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// When (ISO 8601, UTC).
    pub at: String,
    /// What happened.
    pub decision: Decision,
    /// Why, in words.
    pub reason: String,
    /// The model in use after this line (relative to the registry), if any.
    pub current: Option<String>,
    /// The model in use before it.
    pub previous: Option<String>,
    /// The data the candidate learned from.
    pub data: Option<DataFacts>,
    /// The settings it was trained with.
    pub settings: Option<serde_json::Value>,
    /// The deals both models were judged on.
    pub judged: Option<Judged>,
    /// Both models' figures on them.
    pub figures: Option<Figures>,
    /// The rule the decision applied.
    pub rule: Option<gate::GateRule>,
}

impl Entry {
    /// A line with only the decision and its reason filled in.
    pub(crate) fn bare(at: i64, decision: Decision, reason: String) -> Entry {
        Entry {
            at: crate::data::timestamp::format_timestamp(at),
            decision,
            reason,
            current: None,
            previous: None,
            data: None,
            settings: None,
            judged: None,
            figures: None,
            rule: None,
        }
    }
}

/// Which data a candidate learned from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataFacts {
    /// The training data's fingerprint.
    pub fingerprint: String,
    /// The latest time in it (ISO 8601).
    pub data_as_of: String,
    /// Leads read.
    pub leads: usize,
    /// Closed deals won.
    pub won: usize,
    /// Closed deals lost.
    pub lost: usize,
}

/// The deals neither model learned from, on which both were judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judged {
    /// The candidate learned from what was known before this time (ISO 8601); the
    /// judged leads were open at dates from it on.
    pub split: String,
    /// Why the split lies there.
    pub split_why: String,
    /// Days between evaluation dates.
    pub every_days: f64,
    /// Evaluation dates.
    pub dates: usize,
    /// Judged deals won.
    pub won: usize,
    /// Judged deals lost.
    pub lost: usize,
    /// (date, open lead) pairs scored.
    pub rows: usize,
}

/// ROC AUC of the candidate and of the model in use on the judged deals, with the
/// difference, each with a 95% paired bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// The candidate's.
    pub candidate: Interval,
    /// The model in use's, when there is one that could score.
    pub current: Option<Interval>,
    /// Candidate minus current.
    pub difference: Option<Interval>,
}

/// A registry folder.
#[derive(Debug, Clone)]
pub struct Registry {
    dir: PathBuf,
}

impl Registry {
    /// The registry at `dir`, created (with its `models/` folder) when missing.
    pub fn open(dir: &Path) -> Result<Registry> {
        let models = dir.join(MODELS);
        std::fs::create_dir_all(&models).map_err(|e| Error::output(&models, e))?;
        Ok(Registry {
            dir: dir.to_path_buf(),
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Holds the registry for one retrain or rollback, or refuses (exit 1) while
    /// another holds it.
    pub(crate) fn lock(&self) -> Result<RunLock> {
        RunLock::acquire(&self.dir, Job::Registry)
    }

    /// Every line of the record, oldest first. A line that is not an entry is refused,
    /// naming the file and line: the record decides what a rollback restores.
    pub fn entries(&self) -> Result<Vec<Entry>> {
        let path = self.dir.join(RECORD);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(Error::InputFile {
                    path,
                    reason: format!("cannot read: {e}"),
                })
            }
        };
        text.lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| {
                serde_json::from_str(line).map_err(|e| Error::Config {
                    path: path.display().to_string(),
                    line: i + 1,
                    reason: format!("not a registry entry: {e}"),
                })
            })
            .collect()
    }

    /// Adds a line to the record, flushed to disk before this returns.
    pub(crate) fn append(&self, entry: &Entry) -> Result<()> {
        let path = self.dir.join(RECORD);
        let mut line = serde_json::to_string(entry).map_err(|e| {
            Error::output(&path, std::io::Error::other(format!("cannot record: {e}")))
        })?;
        line.push('\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::output(&path, e))?;
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::output(&path, e))
    }

    /// The model in use, as a path relative to the registry (`models/….bin`), if any.
    pub fn current(&self) -> Option<String> {
        std::fs::read_link(self.dir.join(CURRENT))
            .ok()
            .map(|target| target.to_string_lossy().into_owned())
    }

    /// The model in use, read, with its path relative to the registry.
    pub fn current_model(&self) -> Result<Option<(String, Model)>> {
        match self.current() {
            Some(name) => Ok(Some((name.clone(), read_model(&self.dir.join(&name))?))),
            None => Ok(None),
        }
    }

    /// Stores `model` as `models/<stamp>-<fingerprint>.bin` (written whole under a
    /// temporary name first) and returns that path, relative to the registry. Published
    /// files are never rewritten: a name already taken gets a counter.
    pub(crate) fn store(&self, model: &Model, stamp: &str) -> Result<String> {
        let fingerprint = model.data_fingerprint.replace(':', "_");
        let bytes = encode(model)?;
        let mut name = format!("{MODELS}/{stamp}-{fingerprint}.bin");
        let mut counter = 1;
        while self.dir.join(&name).exists() {
            counter += 1;
            name = format!("{MODELS}/{stamp}-{fingerprint}-{counter}.bin");
        }
        write_bytes(&bytes, &self.dir.join(&name))?;
        sync_dir(&self.dir.join(MODELS));
        Ok(name)
    }

    /// Makes `name` (a stored model) the model in use, in one rename.
    pub(crate) fn point_at(&self, name: &str) -> Result<()> {
        replace_link(&self.dir.join(CURRENT), Path::new(name))?;
        sync_dir(&self.dir);
        Ok(())
    }
}

/// The models in use, in the order they came into use, as the record tells it: a
/// publish (or a recovered one) puts a model on top, a rollback takes the top off.
pub fn in_use(entries: &[Entry]) -> Vec<String> {
    let mut stack: Vec<String> = Vec::new();
    for entry in entries {
        match entry.decision {
            Decision::Published | Decision::Recovered => {
                stack.extend(entry.current.clone());
            }
            Decision::RolledBack => {
                stack.pop();
            }
            Decision::Kept | Decision::Refused => {}
        }
    }
    stack
}

/// Puts back the model in use before the current one, in one rename, and records it.
/// Refused (exit 2) when the record knows no earlier model.
pub fn rollback(registry: &Registry, at: i64) -> Result<Entry> {
    let _lock = registry.lock()?;
    retrain::recover(registry, at)?;
    let stack = in_use(&registry.entries()?);
    let current = registry.current();
    let [.., previous, top] = stack.as_slice() else {
        return Err(Error::setting(
            "rollback",
            format!(
                "{} has no earlier published model to go back to",
                registry.dir.display()
            ),
        ));
    };
    if current.as_ref() != Some(top) {
        return Err(Error::setting(
            "rollback",
            format!(
                "the model in use ({}) is not the last one the record published ({top}): run a retrain first, which records it",
                current.as_deref().unwrap_or("none")
            ),
        ));
    }
    registry.point_at(previous)?;
    let mut entry = Entry::bare(
        at,
        Decision::RolledBack,
        format!("rolled back from {top} to {previous}"),
    );
    entry.previous = Some(top.clone());
    entry.current = Some(previous.clone());
    registry.append(&entry)?;
    Ok(entry)
}

/// The record as a table for people: one line per entry, newest last, with the
/// figures and the reason, and which model is in use.
pub fn listing(entries: &[Entry], current: Option<&str>) -> String {
    let auc = |i: Option<Interval>| match i {
        Some(i) if i.value.is_finite() => format!("{:.3} ({:.3}–{:.3})", i.value, i.low, i.high),
        _ => "–".to_string(),
    };
    let mut out = format!(
        "model in use: {}\n\n{:<20}  {:<11}  {:<21}  {:<21}  {:<21}  {}\n",
        current.unwrap_or("none"),
        "when",
        "decision",
        "candidate ROC AUC",
        "in use ROC AUC",
        "difference",
        "model in use after"
    );
    for entry in entries {
        let figures = entry.figures.as_ref();
        let decision = serde_json::to_value(entry.decision)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        out.push_str(&format!(
            "{:<20}  {:<11}  {:<21}  {:<21}  {:<21}  {}\n    {}\n",
            entry.at,
            decision,
            auc(figures.map(|f| f.candidate)),
            auc(figures.and_then(|f| f.current)),
            auc(figures.and_then(|f| f.difference)),
            entry.current.as_deref().unwrap_or("none"),
            entry.reason
        ));
    }
    out
}
