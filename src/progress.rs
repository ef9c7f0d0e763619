//! Progress on stderr for long work: a bar when stderr is a terminal, nothing otherwise,
//! so scheduled jobs' logs stay clean and results on stdout are never mixed with it.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where progress goes; decided once per command.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    visible: bool,
}

impl Progress {
    /// Visible exactly when stderr is a terminal.
    pub(crate) fn stderr() -> Self {
        Progress {
            visible: std::io::stderr().is_terminal(),
        }
    }

    /// Never shows anything (tests, library use).
    pub(crate) fn hidden() -> Self {
        Progress { visible: false }
    }

    /// A bar over `len` steps, or a hidden one.
    pub(crate) fn bar(&self, len: u64, message: &'static str) -> ProgressBar {
        if !self.visible {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(message);
        bar
    }
}
