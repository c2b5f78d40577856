//! The reports' shared stylesheet, inlined in a `<style>` element so a saved report needs
//! nothing else, and the Content-Security-Policy served with a report: nothing may load, no
//! script may run, and the one style allowed is this stylesheet, by its SHA-256 hash (the
//! dashboard's policy has `style-src 'self'`, which would drop an inline stylesheet).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// The stylesheet, exactly the text between `<style>` and `</style>` (its hash is in the CSP).
pub const CSS: &str = r#"
  body { font: 14px/1.45 Helvetica, Arial, sans-serif; color: #1f2733; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
  h1 { font-size: 1.5rem; margin-bottom: .2rem; }
  h2 { font-size: 1.1rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
  .muted { color: #5b6675; }
  dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: .4rem 1.2rem; }
  dl.figures div { border: 1px solid #e3e8ee; border-radius: 6px; padding: .4rem .6rem; }
  dt { font-size: .8rem; color: #5b6675; }
  dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e3e8ee; vertical-align: top; }
  .passed { color: #1a7f37; font-weight: 600; }
  .failed { color: #cf222e; font-weight: 600; }
  figure { margin: 1rem 0; }
  figcaption { font-weight: 600; margin-bottom: .3rem; }
  svg { max-width: 100%; height: auto; }
  pre { white-space: pre-wrap; margin: 0; font: 12px/1.4 ui-monospace, monospace; }
  @media print { body { margin: 0; } }
  table.sides td, table.sides th { text-align: right; font-variant-numeric: tabular-nums; }
  table.sides td:first-child, table.sides th:first-child { text-align: left; }
"#;

/// The CSP of a report response: `default-src 'none'` (no script, no fetch, no frame, no font)
/// plus inline SVG/`data:` images and the stylesheet by hash.
pub fn content_security_policy() -> String {
    let hash = STANDARD.encode(Sha256::digest(CSS.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src data:; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_this_stylesheet_and_no_script() {
        let csp = content_security_policy();
        assert!(
            csp.starts_with("default-src 'none'; style-src 'sha256-"),
            "{csp}"
        );
        assert!(!csp.contains("script-src") && !csp.contains("unsafe-inline"));
        assert_eq!(csp, content_security_policy(), "stable");
    }
}
