//! Digests: pending matches → [`render::Digest`] ([`build`]) → [`render::Rendered`] ([`render`]).

pub mod build;
pub mod render;
