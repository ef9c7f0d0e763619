//! One synthetic lead's whole life: who it is, its hidden fit and intent, the
//! interactions that intent produces over time, whether and when its deal closes, and
//! the activity that follows the close (onboarding after a win, unsubscribes after a
//! loss) which a careless pipeline would leak into its features.
//!
//! The outcome depends only on the hidden fit and intent, never on the sampled activity,
//! so the truth probability is the best any model can do.

use rand::distributions::{Distribution, WeightedIndex};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Gamma, Normal, Poisson};

use super::catalog::*;
use crate::data::timestamp::{civil_from_days, MICROS_PER_DAY, MICROS_PER_SECOND};

/// The simulated period, in microseconds since the epoch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Period {
    /// First instant leads can be created.
    pub(crate) start: i64,
    /// The export's "now": nothing happens at or after it.
    pub(crate) end: i64,
}

/// What an interaction's detail is, without allocating a string per event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DetailRef {
    /// No detail.
    None,
    /// A fixed detail from the catalog.
    Fixed(&'static str),
    /// The monthly newsletter of the given day number's month.
    Newsletter(i64),
}

impl DetailRef {
    /// The text written to the `detail` column.
    pub(crate) fn text(self) -> Option<String> {
        match self {
            DetailRef::None | DetailRef::Fixed("") => None,
            DetailRef::Fixed(text) => Some(text.to_string()),
            DetailRef::Newsletter(day) => {
                let (year, month, _) = civil_from_days(day);
                Some(format!("newsletter-{year:04}-{month:02}"))
            }
        }
    }
}

/// One interaction.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Interaction {
    /// When, in whole seconds (as microseconds).
    pub(crate) at: i64,
    /// What.
    pub(crate) event: Event,
    /// Page, asset or campaign.
    pub(crate) detail: DetailRef,
}

/// A generated lead with everything written about it.
#[derive(Debug, Clone)]
pub(crate) struct LeadLife {
    /// When the lead was created.
    pub(crate) created_at: i64,
    /// Industry.
    pub(crate) industry: &'static str,
    /// Job title (missing for some).
    pub(crate) job_title: Option<&'static str>,
    /// Seniority band derived from the title.
    pub(crate) seniority: Option<&'static str>,
    /// Employees (missing for some).
    pub(crate) company_size: Option<i64>,
    /// Country code.
    pub(crate) country: &'static str,
    /// Lead source.
    pub(crate) source: &'static str,
    /// Owning sales rep (noise).
    pub(crate) lead_owner: &'static str,
    /// Campaign number (noise).
    pub(crate) utm_campaign: u32,
    /// Browser (noise).
    pub(crate) browser: &'static str,
    /// A number with no meaning (noise).
    pub(crate) lucky_number: i64,
    /// True probability that this lead's deal is won.
    pub(crate) p_win: f64,
    /// `(won, closed_at)` when the deal closed within the period.
    pub(crate) outcome: Option<(bool, i64)>,
    /// Interactions in time order.
    pub(crate) interactions: Vec<Interaction>,
}

/// Per-lead random draws come from a stream of their own, so a lead's life does not
/// depend on how leads are chunked or spread over threads.
/// With `stale_close_days`, a lead silent that long is closed as lost by the CRM (the
/// bulk clean-up many sales teams run), before any decision of its own.
pub(crate) fn simulate(
    rng: &mut ChaCha8Rng,
    period: Period,
    stale_close_days: Option<f64>,
) -> LeadLife {
    let span_days = (period.end - period.start) as f64 / MICROS_PER_DAY as f64;
    // Lead flow grows over the period: density rises linearly to twice its start.
    let u: f64 = rng.gen();
    let growth = 1.0;
    let x = ((1.0 + growth * (2.0 + growth) * u).sqrt() - 1.0) / growth;
    let created_at =
        whole_seconds(period.start + (x * (span_days - 7.0) * MICROS_PER_DAY as f64) as i64);

    let industry = pick(rng, INDUSTRIES, |c| c.weight);
    let title = pick(rng, TITLES, |t| t.weight);
    let title_known = rng.gen::<f64>() > 0.07;
    let country = pick(rng, COUNTRIES, |c| c.weight);
    let source = pick(rng, SOURCES, |s| s.weight);
    let browser = pick(rng, BROWSERS, |c| c.weight);
    let lead_owner = LEAD_OWNERS[rng.gen_range(0..LEAD_OWNERS.len())];
    let utm_campaign = rng.gen_range(1..=UTM_CAMPAIGNS);
    let lucky_number = rng.gen_range(0..100);
    let employees = (4.0 + 1.6 * standard_normal(rng)).exp().round().max(1.0) as i64;
    let size_known = rng.gen::<f64>() > 0.09;
    let size_fit = match employees {
        0..=9 => -0.5,
        10..=49 => 0.0,
        50..=4999 => 0.45,
        _ => 0.1,
    };

    let fit =
        industry.fit + title.fit + country.fit + source.fit + size_fit + 0.3 * standard_normal(rng);
    let job_seeker = rng.gen::<f64>() < title.job_seeker;
    let intent = standard_normal(rng) + source.intent - if job_seeker { 1.0 } else { 0.0 };
    let p_win = sigmoid(-1.35 + 0.9 * fit + 0.9 * intent);
    let bad_email = rng.gen::<f64>() < 0.04;

    // Engaged leads decide sooner; some never decide and fade into nurture.
    let decides = rng.gen::<f64>() < 0.72;
    let scale_days = 38.0 * (-0.25 * intent).exp();
    let days_to_decision =
        7.0 + Gamma::new(2.0, scale_days).map_or(2.0 * scale_days, |g| g.sample(rng));
    let decision_at = whole_seconds(created_at + (days_to_decision * MICROS_PER_DAY as f64) as i64);
    let decided = decides && decision_at < period.end;
    let won = rng.gen::<f64>() < p_win;

    let active_until = if decided { decision_at } else { period.end };
    let profile = ActivityProfile::new(intent, job_seeker, decides.then_some(days_to_decision));
    let mut interactions = profile.sample(rng, created_at, active_until);
    let stale_close = stale_close_days
        .and_then(|days| first_silence(created_at, &interactions, active_until, days));
    let outcome = match stale_close {
        Some(at) => Some((false, at)),
        None => decided.then_some((won, decision_at)),
    };
    if decided && stale_close.is_none() {
        after_close(rng, won, decision_at, period.end, &mut interactions);
    }
    interactions.sort_by_key(|i| i.at);
    enforce_email_rules(&mut interactions, bad_email);

    LeadLife {
        created_at,
        industry: industry.value,
        job_title: title_known.then_some(title.value),
        seniority: title_known.then_some(title.seniority),
        company_size: size_known.then_some(employees),
        country: country.value,
        source: source.value,
        lead_owner,
        utm_campaign,
        browser: browser.value,
        lucky_number,
        p_win,
        outcome,
        interactions,
    }
}

/// When a lead created at `created_at`, active at `interactions` (time order), first had
/// `days` without any activity before `until`: that is when a clean-up closes it.
fn first_silence(
    created_at: i64,
    interactions: &[Interaction],
    until: i64,
    days: f64,
) -> Option<i64> {
    let silence = (days * MICROS_PER_DAY as f64) as i64;
    let mut last = created_at;
    for at in interactions.iter().map(|i| i.at).chain([until]) {
        if at - last > silence {
            return Some(whole_seconds(last + silence));
        }
        last = last.max(at);
    }
    None
}

/// How a lead behaves before closing, fixed by its hidden state.
struct ActivityProfile {
    /// Interactions per day at the start of the lead's life.
    rate_per_day: f64,
    /// Days from creation to decision, or `None` for a lead that drifts into nurture.
    horizon_days: Option<f64>,
    /// How strongly activity ramps up towards the decision (intent-driven).
    ramp: f64,
    event_weights: WeightedIndex<f64>,
    page_weights: WeightedIndex<f64>,
    download_weights: WeightedIndex<f64>,
    webinar_weights: WeightedIndex<f64>,
    form_weights: WeightedIndex<f64>,
}

/// Days over which a lead that never decides loses interest (e-folding time).
const NURTURE_FADE_DAYS: f64 = 80.0;
/// Baseline level of activity before any ramp.
const RAMP_FLOOR: f64 = 0.45;

impl ActivityProfile {
    fn new(intent: f64, job_seeker: bool, horizon_days: Option<f64>) -> Self {
        let tilt = |details: &[Detail]| {
            weights(details.iter().map(|(_, w, beta)| w * (beta * intent).exp()))
        };
        let pages = PAGES.iter().map(|&(path, w, beta)| {
            if path == "/careers" && job_seeker {
                2.0
            } else {
                w * (beta * intent).exp()
            }
        });
        ActivityProfile {
            rate_per_day: 0.34 * (0.45 * intent).exp(),
            horizon_days,
            ramp: 1.6 * (1.0 + intent.tanh()),
            event_weights: weights(
                EVENT_MIX
                    .iter()
                    .map(|(_, w, beta)| w * (beta * intent).exp()),
            ),
            page_weights: weights(pages),
            download_weights: tilt(DOWNLOADS),
            webinar_weights: tilt(WEBINARS),
            form_weights: tilt(FORMS),
        }
    }

    /// Samples the pre-close interactions in `[from, until)` as an inhomogeneous Poisson
    /// process: ramping up towards a decision, or fading for leads that never decide.
    fn sample(&self, rng: &mut ChaCha8Rng, from: i64, until: i64) -> Vec<Interaction> {
        let days = (until - from) as f64 / MICROS_PER_DAY as f64;
        if days <= 0.0 {
            return Vec::new();
        }
        let expected = match self.horizon_days {
            Some(horizon) => {
                let u = (days / horizon).min(1.0);
                self.rate_per_day * horizon * (RAMP_FLOOR * u + self.ramp * u * u * u / 3.0)
            }
            None => {
                self.rate_per_day * NURTURE_FADE_DAYS * (1.0 - (-days / NURTURE_FADE_DAYS).exp())
            }
        };
        let count = poisson(rng, expected).min(5_000);
        let mut found = Vec::with_capacity(count);
        for _ in 0..count {
            let offset_days = self.sample_offset(rng, days);
            let at = whole_seconds(from + (offset_days * MICROS_PER_DAY as f64) as i64)
                .min(until - MICROS_PER_SECOND);
            let event = EVENT_MIX[self.event_weights.sample(rng)].0;
            let detail = self.detail(rng, event, at);
            found.push(Interaction { at, event, detail });
        }
        found
    }

    /// A time offset in days, distributed as the activity curve.
    fn sample_offset(&self, rng: &mut ChaCha8Rng, days: f64) -> f64 {
        match self.horizon_days {
            Some(horizon) => {
                let u_max = (days / horizon).min(1.0);
                let peak = RAMP_FLOOR + self.ramp * u_max * u_max;
                loop {
                    let u = rng.gen::<f64>() * u_max;
                    if rng.gen::<f64>() * peak <= RAMP_FLOOR + self.ramp * u * u {
                        return u * horizon;
                    }
                }
            }
            None => {
                let tail = 1.0 - (-days / NURTURE_FADE_DAYS).exp();
                -NURTURE_FADE_DAYS * (1.0 - rng.gen::<f64>() * tail).ln()
            }
        }
    }

    fn detail(&self, rng: &mut ChaCha8Rng, event: Event, at: i64) -> DetailRef {
        let from = |details: &[Detail], index: usize| DetailRef::Fixed(details[index].0);
        match event {
            Event::EmailOpen | Event::EmailClick => {
                if rng.gen::<f64>() < 0.7 {
                    DetailRef::Newsletter(at.div_euclid(MICROS_PER_DAY))
                } else {
                    DetailRef::Fixed(NURTURE_EMAILS[rng.gen_range(0..NURTURE_EMAILS.len())])
                }
            }
            Event::PageVisit => from(PAGES, self.page_weights.sample(rng)),
            Event::Download => from(DOWNLOADS, self.download_weights.sample(rng)),
            Event::Webinar => from(WEBINARS, self.webinar_weights.sample(rng)),
            Event::FormSubmit => from(FORMS, self.form_weights.sample(rng)),
            Event::Unsubscribe => DetailRef::Fixed("email-preferences"),
            Event::DemoRequest | Event::EmailBounce | Event::ProductLogin => DetailRef::None,
        }
    }
}

/// Activity caused by the close itself: onboarding after a win, goodbyes after a loss.
fn after_close(
    rng: &mut ChaCha8Rng,
    won: bool,
    closed_at: i64,
    end: i64,
    into: &mut Vec<Interaction>,
) {
    let window_end = |days: f64| end.min(closed_at + (days * MICROS_PER_DAY as f64) as i64);
    let at_random = |rng: &mut ChaCha8Rng, until: i64| {
        whole_seconds(closed_at + (rng.gen::<f64>() * (until - closed_at) as f64) as i64)
    };
    if won {
        let until = window_end(45.0);
        if until <= closed_at {
            return;
        }
        let onboarding = weights(ONBOARDING.iter().map(|(_, _, w)| *w));
        for _ in 0..poisson(rng, 12.0) {
            let (event, detail, _) = ONBOARDING[onboarding.sample(rng)];
            into.push(Interaction {
                at: at_random(rng, until),
                event,
                detail: DetailRef::Fixed(detail),
            });
        }
    } else {
        let until = window_end(90.0);
        if until <= closed_at {
            return;
        }
        for _ in 0..poisson(rng, 1.5) {
            let at = at_random(rng, until);
            into.push(Interaction {
                at,
                event: Event::EmailOpen,
                detail: DetailRef::Newsletter(at.div_euclid(MICROS_PER_DAY)),
            });
        }
        if rng.gen::<f64>() < 0.45 {
            let until = window_end(30.0);
            into.push(Interaction {
                at: at_random(rng, until),
                event: Event::Unsubscribe,
                detail: DetailRef::Fixed("email-preferences"),
            });
        }
    }
}

/// Email reality: a bad address bounces (three times, then the CRM stops mailing), and
/// nobody opens email after unsubscribing or unsubscribes twice.
fn enforce_email_rules(interactions: &mut Vec<Interaction>, bad_email: bool) {
    let mut unsubscribed = false;
    let mut bounces = 0;
    interactions.retain_mut(|interaction| {
        if bad_email && interaction.event.is_email() {
            if bounces >= 3 {
                return false;
            }
            bounces += 1;
            interaction.event = Event::EmailBounce;
            interaction.detail = DetailRef::None;
            return true;
        }
        if interaction.event == Event::Unsubscribe {
            let first = !unsubscribed;
            unsubscribed = true;
            return first;
        }
        !(unsubscribed && interaction.event.is_email())
    });
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, options: &'a [T], weight: impl Fn(&T) -> f64) -> &'a T {
    let total: f64 = options.iter().map(&weight).sum();
    let mut target = rng.gen::<f64>() * total;
    for option in options {
        target -= weight(option);
        if target < 0.0 {
            return option;
        }
    }
    &options[options.len() - 1]
}

fn weights(values: impl Iterator<Item = f64>) -> WeightedIndex<f64> {
    // Every catalog weight is positive and finite (exp of a finite intent), so this
    // cannot fail; the fallback keeps the function total anyway.
    let values: Vec<f64> = values
        .map(|w| if w.is_finite() && w > 0.0 { w } else { 1e-9 })
        .collect();
    WeightedIndex::new(&values)
        .unwrap_or_else(|_| WeightedIndex::new([1.0]).expect("one positive weight"))
}

fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    Normal::new(0.0, 1.0).map_or(0.0, |n| n.sample(rng))
}

fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> usize {
    if mean <= 0.0 || !mean.is_finite() {
        return 0;
    }
    Poisson::new(mean).map_or(0, |p| p.sample(rng) as usize)
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn whole_seconds(micros: i64) -> i64 {
    micros - micros.rem_euclid(MICROS_PER_SECOND)
}
