//! newswatch: a scheduled news-monitoring daemon.
//!
//! Data flows `config → schedule → fetch → extract → matcher → store → digest → mail`,
//! sequenced by [`pipeline`] (one source) and [`daemon`] (time and signals).

pub mod digest;
pub mod extract;
pub mod fetch;
pub mod matcher;
