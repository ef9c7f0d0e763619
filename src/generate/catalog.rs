//! The synthetic CRM's vocabulary: attribute values with their hidden value for
//! conversion, and the event types and details leads produce. Effects are log-odds
//! contributions to the hidden fit; a zero everywhere marks a pure-noise column.

/// One value of a categorical attribute.
#[derive(Debug, Clone, Copy)]
pub struct Category {
    /// The value as written to the leads table.
    pub value: &'static str,
    /// Relative frequency.
    pub(crate) weight: f64,
    /// Log-odds contribution to the hidden fit.
    pub(crate) fit: f64,
}

const fn c(value: &'static str, weight: f64, fit: f64) -> Category {
    Category { value, weight, fit }
}

/// Industries: software and technology convert best, non-profits worst.
pub const INDUSTRIES: &[Category] = &[
    c("Software", 0.17, 0.65),
    c("Technology", 0.12, 0.5),
    c("Manufacturing", 0.12, 0.3),
    c("Financial Services", 0.10, 0.2),
    c("Healthcare", 0.09, 0.0),
    c("Retail", 0.11, -0.1),
    c("Education", 0.10, -0.5),
    c("Government", 0.07, -0.35),
    c("Non-profit", 0.06, -0.7),
    c("Media", 0.06, -0.1),
];

/// A job title, its seniority band, and whether such leads often look for jobs instead.
#[derive(Debug, Clone, Copy)]
pub struct Title {
    /// The title as written.
    pub value: &'static str,
    /// Seniority band, a coarser attribute derived from the title.
    pub(crate) seniority: &'static str,
    /// Relative frequency.
    pub(crate) weight: f64,
    /// Log-odds contribution to the hidden fit.
    pub(crate) fit: f64,
    /// Chance that a lead with this title is a job seeker (visits /careers, never buys).
    pub(crate) job_seeker: f64,
}

const fn t(
    value: &'static str,
    seniority: &'static str,
    weight: f64,
    fit: f64,
    job_seeker: f64,
) -> Title {
    Title {
        value,
        seniority,
        weight,
        fit,
        job_seeker,
    }
}

/// Job titles: founders and executives decide, students and interns do not.
pub const TITLES: &[Title] = &[
    t("Founder", "owner", 0.06, 0.9, 0.0),
    t("CEO", "c-level", 0.05, 0.75, 0.0),
    t("CTO", "c-level", 0.04, 0.55, 0.0),
    t("VP Sales", "vp", 0.05, 0.6, 0.0),
    t("VP Marketing", "vp", 0.05, 0.55, 0.0),
    t("Head of Marketing", "director", 0.07, 0.45, 0.0),
    t("Sales Director", "director", 0.06, 0.4, 0.0),
    t("Marketing Manager", "manager", 0.12, 0.2, 0.02),
    t("Sales Manager", "manager", 0.08, 0.2, 0.02),
    t("Product Manager", "manager", 0.06, 0.05, 0.05),
    t("Software Engineer", "individual", 0.10, -0.25, 0.15),
    t("Analyst", "individual", 0.09, -0.2, 0.1),
    t("Consultant", "individual", 0.07, -0.3, 0.05),
    t("Student", "student", 0.06, -1.3, 0.6),
    t("Intern", "student", 0.04, -1.0, 0.5),
];

/// Countries: the target markets (US, UK, DACH, Benelux, Nordics) fit best.
pub const COUNTRIES: &[Category] = &[
    c("US", 0.34, 0.25),
    c("GB", 0.10, 0.2),
    c("DE", 0.11, 0.25),
    c("FR", 0.06, 0.0),
    c("NL", 0.04, 0.15),
    c("SE", 0.03, 0.15),
    c("CA", 0.05, 0.1),
    c("AU", 0.04, 0.05),
    c("ES", 0.04, -0.15),
    c("IN", 0.10, -0.45),
    c("BR", 0.06, -0.35),
    c("NG", 0.03, -0.6),
];

/// A lead source, with its effect on fit and on the hidden intent.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    /// The source as written.
    pub value: &'static str,
    /// Relative frequency.
    pub(crate) weight: f64,
    /// Log-odds contribution to the hidden fit.
    pub(crate) fit: f64,
    /// Shift of the hidden intent (referred and event leads arrive warmer).
    pub(crate) intent: f64,
}

const fn s(value: &'static str, weight: f64, fit: f64, intent: f64) -> Source {
    Source {
        value,
        weight,
        fit,
        intent,
    }
}

/// Lead sources.
pub const SOURCES: &[Source] = &[
    s("organic_search", 0.24, 0.0, 0.1),
    s("paid_search", 0.18, -0.1, 0.0),
    s("referral", 0.08, 0.6, 0.5),
    s("webinar", 0.07, 0.2, 0.3),
    s("event", 0.07, 0.25, 0.2),
    s("linkedin", 0.12, 0.0, 0.0),
    s("content_download", 0.12, -0.1, -0.1),
    s("purchased_list", 0.12, -0.8, -0.7),
];

/// Sales reps owning leads: pure noise.
pub(crate) const LEAD_OWNERS: &[&str] = &[
    "a.moreau",
    "b.schmidt",
    "c.nguyen",
    "d.okafor",
    "e.rossi",
    "f.larsen",
    "g.kim",
    "h.silva",
    "i.cohen",
    "j.walker",
    "k.tanaka",
    "l.novak",
];

/// Browsers: pure noise.
pub(crate) const BROWSERS: &[Category] = &[
    c("chrome", 0.62, 0.0),
    c("safari", 0.2, 0.0),
    c("edge", 0.1, 0.0),
    c("firefox", 0.08, 0.0),
];

/// How many distinct `utm_campaign` values exist (pure noise).
pub(crate) const UTM_CAMPAIGNS: u32 = 40;

/// Event types a lead produces before its deal closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Opened a marketing email.
    EmailOpen,
    /// Clicked a link in an email.
    EmailClick,
    /// Visited a page of the website.
    PageVisit,
    /// Downloaded an asset.
    Download,
    /// Attended a webinar.
    Webinar,
    /// Submitted a form.
    FormSubmit,
    /// Asked for a demo.
    DemoRequest,
    /// Unsubscribed from email.
    Unsubscribe,
    /// An email to the lead bounced.
    EmailBounce,
    /// Logged into the product: only customers do, so it only happens after a win.
    ProductLogin,
}

impl Event {
    /// The `event_type` value written.
    pub fn name(self) -> &'static str {
        match self {
            Event::EmailOpen => "email_open",
            Event::EmailClick => "email_click",
            Event::PageVisit => "page_visit",
            Event::Download => "download",
            Event::Webinar => "webinar",
            Event::FormSubmit => "form_submit",
            Event::DemoRequest => "demo_request",
            Event::Unsubscribe => "unsubscribe",
            Event::EmailBounce => "email_bounce",
            Event::ProductLogin => "product_login",
        }
    }

    /// True for events that need the lead's email to work.
    pub(crate) fn is_email(self) -> bool {
        matches!(self, Event::EmailOpen | Event::EmailClick)
    }
}

/// Pre-close event mix: base weight and sensitivity to the hidden intent (log scale).
pub const EVENT_MIX: &[(Event, f64, f64)] = &[
    (Event::EmailOpen, 9.0, 0.15),
    (Event::EmailClick, 2.5, 0.45),
    (Event::PageVisit, 8.0, 0.35),
    (Event::Download, 0.8, 0.4),
    (Event::Webinar, 0.35, 0.5),
    (Event::FormSubmit, 0.6, 0.5),
    (Event::DemoRequest, 0.12, 1.3),
    (Event::Unsubscribe, 0.1, -1.2),
];

/// A detail value with base weight and sensitivity to intent.
pub(crate) type Detail = (&'static str, f64, f64);

/// Website paths visited; /careers is for job seekers and handled apart.
pub(crate) const PAGES: &[Detail] = &[
    ("/", 0.15, 0.0),
    ("/blog/what-is-lead-scoring", 0.10, -0.1),
    ("/blog/crm-data-hygiene", 0.08, -0.1),
    ("/blog/b2b-funnel-metrics", 0.07, -0.1),
    ("/blog/email-benchmarks-2025", 0.06, -0.2),
    ("/product", 0.15, 0.3),
    ("/product/tutorial", 0.05, 0.8),
    ("/pricing", 0.07, 1.1),
    ("/docs", 0.05, 0.3),
    ("/case-studies", 0.05, 0.5),
    ("/integrations", 0.04, 0.4),
    ("/about", 0.04, 0.0),
    ("/careers", 0.01, -0.5),
];

/// Downloadable assets.
pub(crate) const DOWNLOADS: &[Detail] = &[
    ("whitepaper-ecommerce", 0.3, 0.2),
    ("whitepaper-ai-sales", 0.25, 0.1),
    ("ebook-lead-scoring", 0.25, 0.0),
    ("case-study-retail", 0.1, 0.7),
    ("checklist-crm-migration", 0.1, 0.5),
];

/// Webinars.
pub(crate) const WEBINARS: &[Detail] = &[
    ("webinar-industry-trends", 0.45, 0.0),
    ("webinar-roi-workshop", 0.3, 0.5),
    ("webinar-product-demo", 0.25, 0.9),
];

/// Forms.
pub(crate) const FORMS: &[Detail] = &[
    ("newsletter-signup", 0.6, 0.0),
    ("contact-us", 0.25, 1.0),
    ("inquiry", 0.15, 0.8),
];

/// Nurture-series emails (newsletters are named by month instead).
pub(crate) const NURTURE_EMAILS: &[&str] = &[
    "nurture-1-welcome",
    "nurture-2-use-cases",
    "nurture-3-case-study",
    "nurture-4-roi",
    "nurture-5-offer",
];

/// What customers do right after a won deal (the leak a careless pipeline learns).
pub(crate) const ONBOARDING: &[(Event, &str, f64)] = &[
    (Event::ProductLogin, "", 0.5),
    (Event::PageVisit, "/app/onboarding", 0.15),
    (Event::PageVisit, "/docs/getting-started", 0.1),
    (Event::EmailOpen, "onboarding-welcome", 0.15),
    (Event::Webinar, "webinar-onboarding", 0.1),
];
