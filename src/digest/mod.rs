//! Digests: pending matches → [`render::Digest`] → [`render::Rendered`].

pub mod render;
