//! claimex: news articles in, claims out. Stages, in the order a document meets them:
//! [`ingest`] → [`segment`] → [`reader`] (one model pass; entities decoded by [`ner`]) →
//! [`resolve`] → [`attribute`] → [`assemble`] → [`output`], wired by [`pipeline`] and configured by
//! [`config`]. [`eval`] and [`eval_ner`] score the claims and the entities against labeled data;
//! [`report`] makes an HTML page of an output folder.
//! The libtorch model ([`onepass`], on [`bert`] and [`model`]) is behind the "torch" feature.

pub mod assemble;
pub mod attribute;
#[cfg(feature = "torch")]
pub mod bert;
pub mod config;
pub mod document;
pub mod encode;
pub mod eval;
pub mod eval_ner;
pub mod gazetteer;
pub mod ingest;
pub mod interrupt;
#[cfg(feature = "torch")]
pub mod model;
pub mod ner;
#[cfg(feature = "torch")]
pub mod onepass;
pub mod outdir;
pub mod output;
pub mod pipeline;
pub mod reader;
pub mod report;
pub mod resolve;
pub mod segment;
pub mod store;
