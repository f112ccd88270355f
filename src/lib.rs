//! newswatch: a scheduled news-monitoring daemon.
//!
//! Data flows `config → schedule → fetch → extract → matcher → store → digest → mail`,
//! sequenced by [`pipeline`] (one source) and [`daemon`] (time and signals).

pub mod chars;
pub mod cli;
pub mod cluster;
pub mod cmd;
pub mod config;
pub mod daemon;
pub mod digest;
pub mod extract;
pub mod failpoint;
pub mod fetch;
pub mod gather;
pub mod log;
pub mod mail;
pub mod matcher;
pub mod model;
pub mod outbox;
pub mod pipeline;
pub mod schedule;
pub mod secrets;
pub mod store;
pub mod stories;
pub mod systemd;
