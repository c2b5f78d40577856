//! The `ecommerce` persona: a small product catalog with comparisons, reviews, XML and summaries.

use super::text::{contains_any, excerpt, words, xml_escape};
use crate::mock::sessions::SessionView;

struct Product {
    id: &'static str,
    name: &'static str,
    category: &'static str,
    price_cents: u32,
    rating: f32,
    stock: u32,
}

const fn p(
    id: &'static str,
    name: &'static str,
    category: &'static str,
    price_cents: u32,
    rating: f32,
    stock: u32,
) -> Product {
    Product {
        id,
        name,
        category,
        price_cents,
        rating,
        stock,
    }
}

const CATALOG: [Product; 20] = [
    p(
        "P001",
        "Aurora Wireless Headphones",
        "audio",
        12999,
        4.6,
        42,
    ),
    p("P002", "Nimbus Bluetooth Speaker", "audio", 7999, 4.3, 120),
    p("P003", "Pulse Earbuds Pro", "audio", 14999, 4.5, 64),
    p("P004", "Vertex 27\" 4K Monitor", "displays", 34999, 4.7, 18),
    p(
        "P005",
        "Vertex 32\" Curved Monitor",
        "displays",
        42999,
        4.4,
        9,
    ),
    p(
        "P006",
        "Glide Mechanical Keyboard",
        "peripherals",
        10999,
        4.8,
        75,
    ),
    p(
        "P007",
        "Glide Wireless Mouse",
        "peripherals",
        4999,
        4.2,
        210,
    ),
    p("P008", "Orbit USB-C Hub", "peripherals", 3999, 4.1, 300),
    p("P009", "Summit Ultrabook 14", "laptops", 129999, 4.6, 12),
    p("P010", "Summit Ultrabook 16", "laptops", 159999, 4.5, 7),
    p("P011", "Terra Gaming Laptop", "laptops", 189999, 4.4, 5),
    p(
        "P012",
        "Lumen Smart Bulb (4-pack)",
        "smart-home",
        4999,
        4.0,
        500,
    ),
    p(
        "P013",
        "Sentinel Video Doorbell",
        "smart-home",
        17999,
        4.3,
        33,
    ),
    p(
        "P014",
        "Haven Smart Thermostat",
        "smart-home",
        21999,
        4.6,
        21,
    ),
    p("P015", "Stride Fitness Watch", "wearables", 24999, 4.5, 58),
    p("P016", "Stride Fitness Band", "wearables", 5999, 3.9, 140),
    p("P017", "Canvas Tablet 11", "tablets", 49999, 4.4, 26),
    p("P018", "Canvas Stylus", "tablets", 9999, 4.2, 90),
    p("P019", "Flux Portable SSD 1TB", "storage", 11999, 4.7, 88),
    p("P020", "Flux Portable SSD 2TB", "storage", 19999, 4.7, 40),
];

const REVIEWS: [(&str, &str, u8, &str); 6] = [
    (
        "P001",
        "Dana",
        5,
        "Great noise cancelling and the battery lasts all week.",
    ),
    ("P001", "Lee", 4, "Comfortable, but the case is bulky."),
    (
        "P006",
        "Sam",
        5,
        "Best keyboard I've owned; the switches feel superb.",
    ),
    (
        "P006",
        "Ari",
        4,
        "Loud for an open office, otherwise perfect.",
    ),
    ("P009", "Kim", 5, "Light, fast, and the screen is gorgeous."),
    (
        "P009",
        "Noor",
        3,
        "Runs warm under load; fine for office work.",
    ),
];

/// The reply of the ecommerce persona to `message`.
pub fn reply(message: &str, session: &SessionView) -> String {
    if contains_any(message, &["compare", " vs ", "versus"]) {
        comparison_table(message)
    } else if contains_any(message, &["review"]) {
        reviews()
    } else if contains_any(message, &["xml"]) {
        xml_catalog()
    } else if contains_any(message, &["summar"]) {
        summary(session)
    } else if contains_any(message, &["catalog", "products", "list", "show"]) {
        listing()
    } else {
        help_menu()
    }
}

fn price(product: &Product) -> String {
    format!(
        "${}.{:02}",
        product.price_cents / 100,
        product.price_cents % 100
    )
}

/// Products named or categorised in `message`, else the first three.
fn matching(message: &str) -> Vec<&'static Product> {
    let asked = words(message);
    let hits: Vec<&Product> = CATALOG
        .iter()
        .filter(|p| {
            let name = words(p.name);
            asked
                .iter()
                .any(|w| w.len() > 3 && (name.contains(w) || p.category.contains(w.as_str())))
        })
        .take(4)
        .collect();
    if hits.len() >= 2 {
        hits
    } else {
        CATALOG.iter().take(3).collect()
    }
}

fn comparison_table(message: &str) -> String {
    let mut out = String::from(
        "Here is a comparison:\n\n| Product | Category | Price | Rating | In stock |\n|---|---|---|---|---|\n",
    );
    for p in matching(message) {
        out.push_str(&format!(
            "| {} | {} | {} | {:.1} ★ | {} |\n",
            p.name,
            p.category,
            price(p),
            p.rating,
            p.stock
        ));
    }
    out.push_str("\nWould you like me to add any of these to your cart?");
    out
}

fn reviews() -> String {
    let mut out = String::from("Recent customer reviews:\n");
    for (id, author, stars, text) in REVIEWS {
        let name = CATALOG.iter().find(|p| p.id == id).map_or(id, |p| p.name);
        out.push_str(&format!(
            "\n**{name}** — {author}, {}\n> {text}\n",
            "★".repeat(usize::from(stars))
        ));
    }
    out
}

fn xml_catalog() -> String {
    let items: String = CATALOG
        .iter()
        .take(5)
        .map(|p| {
            format!(
                "  <product id=\"{}\">\n    <name>{}</name>\n    <category>{}</category>\n    \
                 <price currency=\"USD\">{}</price>\n    <rating>{:.1}</rating>\n  </product>\n",
                p.id,
                xml_escape(p.name),
                p.category,
                price(p).trim_start_matches('$'),
                p.rating
            )
        })
        .collect();
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<catalog count=\"5\">\n{items}</catalog>")
}

fn summary(session: &SessionView) -> String {
    if session.history.is_empty() {
        return "This is the start of our conversation, so there is nothing to summarize yet."
            .to_string();
    }
    let lines: Vec<String> = session
        .history
        .iter()
        .enumerate()
        .map(|(i, m)| format!("{}. You asked: \"{}\"", i + 1, excerpt(m, 80)))
        .collect();
    format!(
        "Summary of our conversation so far ({} messages):\n{}",
        session.history.len(),
        lines.join("\n")
    )
}

fn listing() -> String {
    let lines: Vec<String> = CATALOG
        .iter()
        .map(|p| format!("- {} ({}) — {}", p.name, p.id, price(p)))
        .collect();
    format!(
        "Our catalog ({} products):\n{}",
        CATALOG.len(),
        lines.join("\n")
    )
}

fn help_menu() -> String {
    "Welcome to the Mock Shop! I can help you with:\n\
     - **Browse**: \"show me the catalog\"\n\
     - **Compare**: \"compare the Summit ultrabooks\"\n\
     - **Reviews**: \"what do reviews say?\"\n\
     - **Export**: \"give me the catalog as XML\"\n\
     - **Summary**: \"summarize our conversation\""
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(history: &[&str]) -> SessionView {
        SessionView {
            count: 1,
            seed: 1,
            history: history.iter().map(|h| h.to_string()).collect(),
        }
    }

    #[test]
    fn replies_by_keyword() {
        let table = reply("compare the summit ultrabooks", &s(&[]));
        assert!(
            table.contains("| Summit Ultrabook 14 |") && table.contains("| Summit Ultrabook 16 |")
        );
        assert!(reply("compare stuff", &s(&[])).contains("Aurora"));
        assert!(reply("show reviews", &s(&[])).contains("★★★★★"));
        let xml = reply("catalog as xml", &s(&[]));
        assert_eq!(xml.matches("<product ").count(), 5);
        assert!(reply("summarize please", &s(&["first q", "second q"])).contains("2 messages"));
        assert!(reply("hello", &s(&[])).contains("Mock Shop"));
        assert!(reply("list products", &s(&[])).contains("20 products"));
    }
}
