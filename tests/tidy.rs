//! Tidy checks: every Rust file says what it is for, stays within the size budget, `mod.rs`
//! only declares and re-exports, and the crate layering `krawall → projections → actors` holds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn all_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        "src",
        "tests",
        "actors/src",
        "actors/tests",
        "projections/src",
    ] {
        let d = root.join(dir);
        if d.exists() {
            rust_files(&d, &mut files);
        }
    }
    assert!(files.len() > 20, "found the sources");
    files
}

#[test]
fn every_file_opens_with_a_module_doc_and_fits_the_budget() {
    let mut problems = Vec::new();
    for file in all_files() {
        let text = fs::read_to_string(&file).unwrap();
        if !text.starts_with("//!") {
            problems.push(format!(
                "{}: does not start with a //! line",
                file.display()
            ));
        }
        let lines = text.lines().count();
        if lines > 500 {
            problems.push(format!(
                "{}: {lines} lines (budget ~400, hard limit 500)",
                file.display()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn mod_rs_only_declares_and_reexports() {
    let allowed = [
        "//!",
        "mod ",
        "pub mod ",
        "pub use ",
        "pub(crate) use ",
        "use ",
        "#[",
        "",
    ];
    for file in all_files().into_iter().filter(|f| f.ends_with("mod.rs")) {
        let text = fs::read_to_string(&file).unwrap();
        for line in text.lines() {
            let t = line.trim_start();
            let continuation = line.starts_with(' ') || t.starts_with('}');
            assert!(
                continuation || allowed.iter().any(|a| t.starts_with(a)),
                "{}: mod.rs holds more than declarations: {line:?}",
                file.display()
            );
        }
    }
}

fn manifest_deps(crate_dir: &str) -> String {
    let text = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(crate_dir)
            .join("Cargo.toml"),
    )
    .unwrap();
    text.split("[dependencies]")
        .nth(1)
        .unwrap()
        .split("\n[")
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn layering_points_from_app_to_projections_to_actors() {
    let actors = manifest_deps("actors");
    for banned in ["projections", "krawall", "actix-web", "sailfish"] {
        assert!(
            !actors.lines().any(|l| l.starts_with(banned)),
            "actors must not depend on {banned}"
        );
    }
    let projections = manifest_deps("projections");
    for banned in ["krawall", "actix-web", "sailfish", "reqwest"] {
        assert!(
            !projections.lines().any(|l| l.starts_with(banned)),
            "projections must not depend on {banned}"
        );
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("projections/src"), &mut files);
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            if let Some(rest) = line
                .trim_start()
                .strip_prefix("use ::actors::")
                .or_else(|| line.trim_start().strip_prefix("use actors::"))
            {
                assert!(
                    rest.starts_with("domain") || rest.starts_with("store"),
                    "{}:{}: projections may only use actors::domain and actors::store: {line}",
                    file.display(),
                    i + 1
                );
            }
        }
    }
}
