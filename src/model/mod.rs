//! Values that cross layers: made by one step of the pipeline and read by others
//! (`fetch`, `store`, `digest`, `outbox`, `cmd`), so that none of those imports another's
//! types. Nothing here does I/O or holds policy; each type states its invariants.
//!
//! - [`names`]: the validated names of sources and watchlists, used everywhere outside the
//!   matcher instead of indexes or bare strings.
//! - [`article`]: an article as a scan saw it, as the store knows it, and its text debt.
//! - [`health`]: HTTP validators and a source's state and health changes.
//! - [`delivery`]: pending matches, recorded digests and their deliveries.
//! - [`story`]: what clustering and ranking keep of each copy of a story.

pub mod article;
pub mod delivery;
pub mod health;
pub mod names;
pub mod story;

pub use article::{
    ArticleMatch, KnownArticle, OwedText, RecordedArticle, ScannedArticle, TextDebt, TextFrom,
};
pub use delivery::{
    Delivery, DeliveryFailure, DeliveryState, DigestRecord, PendingMatch, Rendered, Undelivered,
};
pub use health::{HealthChange, HealthEvent, SourceHealth, SourceState, Validators};
pub use names::{InstanceId, NameError, SourceName, WatchlistName};
pub use story::{MailedCopy, Prominence, StorySketch};
