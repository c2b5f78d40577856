//! Krawall application crate: HTTP API, CLI subcommands, the mock chatbot and the composition
//! root that wires the write side (`actors`) and the read side (`projections`).

pub mod accounts_cmd;
pub mod assets;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod config;
pub mod demo;
pub mod export_cmd;
pub mod exports;
pub mod follow;
pub mod hardening_args;
pub mod junit;
pub mod mock;
pub mod openapi;
pub mod pages;
pub mod prometheus;
pub mod report;
pub mod retention;
pub mod routes;
pub mod run_args;
pub mod run_cmd;
pub mod security;
pub mod startup;

/// Installs the process-wide rustls crypto provider; call first in `main` and in test setup.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
