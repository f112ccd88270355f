//! Digests: pending matches → stories, clustered and ranked ([`build`], [`rank`]) → one or
//! more messages that fit ([`pack`]) → [`render::Rendered`] ([`render`]). All pure: the
//! database and the transport are `outbox`'s.

pub mod build;
pub mod pack;
pub mod rank;
pub mod render;
