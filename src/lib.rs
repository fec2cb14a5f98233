//! claimex: news articles in, claims out. Stages, in the order a document meets them:
//! [`ingest`] → [`segment`] → [`ner`] → [`classify`] → [`assemble`] (with [`resolve`]) →
//! [`output`], wired by [`pipeline`] and configured by [`config`]. [`eval`] and [`eval_ner`]
//! score the claims and the NER model against labeled data.

pub mod assemble;
pub mod bert;
pub mod classify;
pub mod config;
pub mod document;
pub mod encode;
pub mod eval;
pub mod eval_ner;
pub mod gazetteer;
pub mod ingest;
pub mod interrupt;
pub mod model;
pub mod ner;
pub mod outdir;
pub mod output;
pub mod pipeline;
pub mod resolve;
pub mod segment;
pub mod store;
