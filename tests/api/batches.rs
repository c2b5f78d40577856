//! Batches: one scenario against three targets (two answer, one refuses connections) → one
//! session per target under a batch id, counts/progress/status, the listing, the comparison page
//! and 400s naming the field; on SQLite and PostgreSQL.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};

/// Three targets: two on the mock, the last on a closed port.
async fn three_targets(app: &TestApp) -> Vec<String> {
    let mut ids = Vec::new();
    for name in ["alpha", "beta"] {
        let mut body = app.mock_target("/v1/chat/completions");
        body["name"] = json!(name);
        ids.push(app.create("/api/targets", &body).await);
    }
    let mut dead = app.mock_target("/v1/chat/completions");
    dead["name"] = json!("gamma");
    dead["endpoint"] = json!("http://127.0.0.1:9/v1/chat/completions");
    ids.push(app.create("/api/targets", &dead).await);
    ids
}

async fn wait_for_batch(app: &TestApp, id: &str) -> Value {
    for _ in 0..600 {
        let (status, resp) = app.get(&format!("/api/execute/batch/{id}")).await;
        assert_eq!(status, 200, "{resp}");
        if resp["data"]["counts"]["queued"] == 0 && resp["data"]["counts"]["running"] == 0 {
            return resp["data"].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("batch {id} never finished");
}

async fn batch_over_three_targets(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let targets = three_targets(&app).await;
    let scenario = app
        .create("/api/scenarios", &crate::helpers::branching_scenario())
        .await;
    let body = json!({"scenarioId": scenario, "targetIds": targets,
        "executionConfig": {"repetitions": 1, "errorHandling": {"onError": "abort"}}});
    let (status, resp) = app.post("/api/execute/batch", &body).await;
    assert_eq!(status, 202, "{resp}");
    let batch_id = resp["data"]["batchId"].as_str().unwrap().to_string();
    let session_ids: Vec<String> = resp["data"]["sessionIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert_eq!(session_ids.len(), 3);
    let queued = app.event_types(&session_ids[0]).await;
    assert_eq!(queued[0], "SessionQueued");
    let (_, events) = app
        .get(&format!("/api/sessions/{}/events", session_ids[0]))
        .await;
    assert_eq!(events["data"][0]["data"]["batchId"], batch_id.as_str());

    let batch = wait_for_batch(&app, &batch_id).await;
    assert_eq!(batch["counts"]["total"], 3, "{batch}");
    assert_eq!(batch["counts"]["completed"], 2, "{batch}");
    assert_eq!(batch["counts"]["failed"], 1, "{batch}");
    assert_eq!(batch["status"], "PARTIAL", "{batch}");
    assert_eq!(batch["progress"], 1.0);
    let sessions = batch["sessions"].as_array().unwrap();
    let names: Vec<_> = sessions.iter().map(|s| s["targetName"].clone()).collect();
    assert_eq!(names, [json!("alpha"), json!("beta"), json!("gamma")]);
    for (i, s) in sessions.iter().enumerate() {
        assert_eq!(s["id"], session_ids[i].as_str());
        assert_eq!(s["targetId"], targets[i].as_str());
        assert!(s["summaryMetrics"].is_object(), "{s}");
    }
    assert_eq!(sessions[0]["status"], "COMPLETED");
    assert_eq!(sessions[0]["summaryMetrics"]["messageCount"], 4);
    assert_eq!(sessions[2]["status"], "FAILED");
    assert!(sessions[2]["errorCount"].as_i64().unwrap() >= 1);

    let (status, list) = app.get("/api/execute/batch").await;
    assert_eq!(status, 200, "{list}");
    let listed = &list["data"]["batches"][0];
    assert_eq!(listed["id"], batch_id.as_str());
    assert_eq!(listed["status"], "PARTIAL");
    assert_eq!(listed["scenarioName"], "branching");
    assert!(listed.get("sessions").is_none());
    comparison_page(&app, &batch_id).await;
}

async fn comparison_page(app: &TestApp, batch_id: &str) {
    let page = app
        .client
        .get(format!("{}/batches/{batch_id}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    for target in ["alpha", "beta", "gamma"] {
        assert!(
            html.contains(&format!(
                "data-testid=\"comparison-row\" data-target=\"{target}\""
            )),
            "{target} row missing"
        );
    }
    assert!(html.contains("data-testid=\"batch-status\">PARTIAL<"));
    let list = app
        .client
        .get(format!("{}/batches", app.address))
        .send()
        .await
        .unwrap();
    assert!(
        list.text()
            .await
            .unwrap()
            .contains(&format!("data-batch=\"{batch_id}\""))
    );
}

#[actix_web::test]
async fn batch_over_three_targets_sqlite() {
    batch_over_three_targets(Backend::Sqlite).await;
}

#[actix_web::test]
async fn batch_over_three_targets_postgres() {
    batch_over_three_targets(Backend::Postgres).await;
}

async fn rejected(app: &TestApp, body: Value) -> String {
    let (status, resp) = app.post("/api/execute/batch", &body).await;
    assert_eq!(status, 400, "{resp}");
    resp["details"][0]["field"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn bad_batches_name_the_field() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let scenario = app
        .create("/api/scenarios", &crate::helpers::branching_scenario())
        .await;
    let missing = uuid::Uuid::now_v7().to_string();
    let too_many: Vec<String> = (0..51).map(|_| target.clone()).collect();
    let cases = [
        (json!({"targetIds": [target]}), "scenarioId"),
        (json!({"scenarioId": scenario}), "targetIds"),
        (
            json!({"scenarioId": scenario, "targetIds": []}),
            "targetIds",
        ),
        (
            json!({"scenarioId": scenario, "targetIds": too_many}),
            "targetIds",
        ),
        (
            json!({"scenarioId": scenario, "targetIds": [target, target]}),
            "targetIds[1]",
        ),
        (
            json!({"scenarioId": scenario, "targetIds": [target, missing]}),
            "targetIds[1]",
        ),
        (
            json!({"scenarioId": scenario, "targetIds": ["nope"]}),
            "targetIds[0]",
        ),
        (
            json!({"scenarioId": missing, "targetIds": [target]}),
            "scenarioId",
        ),
    ];
    for (body, field) in cases {
        assert_eq!(rejected(&app, body.clone()).await, field, "{body}");
    }
    let (_, list) = app.get("/api/execute/batch").await;
    assert_eq!(list["data"]["batches"], json!([]), "nothing was queued");
    let (status, _) = app.get(&format!("/api/execute/batch/{missing}")).await;
    assert_eq!(status, 404);
}
