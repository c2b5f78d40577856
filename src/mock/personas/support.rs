//! The `support` persona: JSON-string replies carrying a `TKT-#####` ticket that is resolved by
//! the FAQ, escalated after five messages, or left open with growing detail.

use serde_json::json;

use super::text::{contains_any, excerpt};
use crate::mock::sessions::SessionView;

/// Messages in a session from which an unresolved ticket is escalated.
const ESCALATE_AT: u64 = 5;

const FAQ: [(&[&str], &str); 8] = [
    (
        &["password", "reset", "login", "log in", "sign in"],
        "You can reset your password from the sign-in page via \"Forgot password\". The link is valid for 30 minutes.",
    ),
    (
        &["billing", "invoice", "charge", "refund"],
        "Invoices are under Account → Billing. Refunds are issued to the original payment method within 5–7 business days.",
    ),
    (
        &["shipping", "delivery", "track", "package"],
        "Orders ship within 2 business days. Your tracking number is in the confirmation email.",
    ),
    (
        &["cancel", "subscription", "unsubscribe"],
        "You can cancel any time under Account → Subscription; access continues until the end of the period.",
    ),
    (
        &["delete account", "close account", "change email"],
        "Account changes are under Account → Profile. Deletion is final after a 14-day grace period.",
    ),
    (
        &["hours", "contact", "phone", "opening"],
        "Support is available Monday to Friday, 8:00–18:00 CET, by chat or at +1-555-0100.",
    ),
    (
        &["install", "setup", "set up", "download"],
        "Download the installer from the Downloads page and follow the setup wizard; it takes about 5 minutes.",
    ),
    (
        &["privacy", "gdpr", "personal data"],
        "We process personal data per our privacy policy; you can request an export under Account → Privacy.",
    ),
];

const SUGGESTIONS: [&str; 5] = [
    "Check our help center for step-by-step guides",
    "Include any error messages you see",
    "Tell us which device and app version you use",
    "Attach a screenshot if possible",
    "Try signing out and back in",
];

/// The reply of the support persona: a JSON document serialised as a string.
pub fn reply(message: &str, session: &SessionView) -> String {
    let ticket = format!("TKT-{:05}", 10_000 + session.seed % 90_000);
    let count = session.count;
    let body = if let Some((_, answer)) = FAQ.iter().find(|(keys, _)| contains_any(message, keys)) {
        let mut text = (*answer).to_string();
        if count > 2 {
            text.push_str(" Since we have been talking for a while, here is more detail: if the steps above do not help, reply with your order number and we will check your account directly.");
        }
        json!({"ticket_id": ticket, "status": "resolved", "priority": "low", "message": text})
    } else if count >= ESCALATE_AT {
        json!({
            "ticket_id": ticket,
            "status": "escalated",
            "priority": "high",
            "message": format!("I'm escalating ticket {ticket} to a senior specialist after {count} messages. You will hear from us within 4 hours."),
            "assigned_team": "tier-2"
        })
    } else {
        let detail = usize::try_from(count)
            .unwrap_or(1)
            .clamp(1, SUGGESTIONS.len());
        let mut text = format!(
            "Thanks for reaching out about \"{}\". I've opened ticket {ticket}.",
            excerpt(message, 100)
        );
        for _ in 1..detail {
            text.push_str(" To help us investigate, please share as much detail as you can about when the issue started and what changed beforehand.");
        }
        json!({
            "ticket_id": ticket,
            "status": "open",
            "priority": if count >= 3 { "medium" } else { "low" },
            "message": text,
            "suggestions": SUGGESTIONS[..detail],
        })
    };
    body.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn answer(message: &str, count: u64) -> Value {
        let s = SessionView {
            count,
            seed: 42,
            history: Vec::new(),
        };
        serde_json::from_str(&reply(message, &s)).unwrap()
    }

    #[test]
    fn faq_open_and_escalated() {
        let faq = answer("I need a refund", 1);
        assert_eq!(faq["status"], "resolved");
        assert_eq!(faq["ticket_id"], "TKT-10042");
        assert!(
            answer("refund again", 3)["message"].as_str().unwrap().len()
                > faq["message"].as_str().unwrap().len()
        );
        let open1 = answer("my widget is broken", 1);
        let open4 = answer("my widget is broken", 4);
        assert_eq!(open1["status"], "open");
        assert!(
            open4["message"].as_str().unwrap().len() > open1["message"].as_str().unwrap().len()
        );
        assert_eq!(open4["suggestions"].as_array().unwrap().len(), 4);
        let esc = answer("still broken", 5);
        assert_eq!(esc["status"], "escalated");
        assert_eq!(esc["priority"], "high");
    }
}
