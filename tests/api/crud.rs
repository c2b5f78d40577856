//! Targets and scenarios over the API: validation names the field, unknown ids are 404,
//! nothing is half-written, credentials are write-only and never stored in plaintext.

use serde_json::json;

use crate::helpers::{Backend, branching_scenario, spawn_app};

#[actix_web::test]
async fn invalid_targets_are_rejected_with_the_field_named() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let mut body = app.mock_target("/v1/chat/completions");
    body["endpoint"] = json!("ftp://nowhere");
    body["authConfig"] = json!({});
    let (status, resp) = app.post("/api/targets", &body).await;
    assert_eq!(status, 400, "{resp}");
    assert_eq!(resp["success"], false);
    let fields: Vec<&str> = resp["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"endpoint") && fields.contains(&"authConfig.token"),
        "{fields:?}"
    );

    let mut body = app.mock_target("/v1/chat/completions");
    body["connectorType"] = json!("CARRIER_PIGEON");
    let (status, resp) = app.post("/api/targets", &body).await;
    assert_eq!(status, 400);
    assert!(
        resp["error"].as_str().unwrap().contains("connectorType"),
        "{resp}"
    );

    let mut body = app.mock_target("/v1/chat/completions");
    body["responseTemplate"]["responsePath"] = json!("$.choices[?(@.x");
    let (status, resp) = app.post("/api/targets", &body).await;
    assert_eq!(status, 400, "{resp}");
    assert_eq!(resp["details"][0]["field"], "responseTemplate.responsePath");

    let (_, list) = app.get("/api/targets").await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        0,
        "nothing half-written"
    );
    let written = app
        .core
        .store
        .read_types(&["TargetCreated", "TargetUpdated"])
        .await;
    assert!(
        written.unwrap().is_empty(),
        "no event appended for rejected input"
    );
}

#[actix_web::test]
async fn invalid_scenarios_are_rejected_with_the_field_named() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let mut body = branching_scenario();
    body["flowConfig"][1]["config"]["steps"][0]["type"] = json!("teleport");
    let (status, resp) = app.post("/api/scenarios", &body).await;
    assert_eq!(status, 400, "{resp}");
    assert_eq!(
        resp["details"][0]["field"],
        "flowConfig[1].config.steps[0].type"
    );

    let mut body = branching_scenario();
    body["repetitions"] = json!(0);
    body["flowConfig"][2]["config"]["condition"] = json!("response.contains('yes')");
    let (status, resp) = app.post("/api/scenarios", &body).await;
    assert_eq!(status, 400);
    let fields: Vec<&str> = resp["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"flowConfig[2].config.condition"),
        "{fields:?}"
    );

    let mut body = branching_scenario();
    body["flowConfig"][0]["config"]["content"] = json!("{{ unclosed");
    let (status, resp) = app.post("/api/scenarios", &body).await;
    assert_eq!(status, 400);
    assert_eq!(resp["details"][0]["field"], "flowConfig[0].config.content");
    let (status, _) = app.post("/api/scenarios", &json!("not an object")).await;
    assert_eq!(status, 400);
}

#[actix_web::test]
async fn unknown_ids_are_404() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let id = uuid::Uuid::now_v7();
    for path in [
        format!("/api/targets/{id}"),
        format!("/api/scenarios/{id}"),
        format!("/api/sessions/{id}"),
        "/api/targets/not-a-uuid".into(),
        format!("/api/sessions/{id}/events"),
    ] {
        let (status, resp) = app.get(&path).await;
        assert_eq!(status, 404, "{path}: {resp}");
        assert_eq!(resp["success"], false);
    }
    let (status, _) = app.delete(&format!("/api/targets/{id}")).await;
    assert_eq!(status, 404);
    let (status, _) = app
        .put(&format!("/api/scenarios/{id}"), &branching_scenario())
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .post("/api/execute", &json!({"targetId": id, "scenarioId": id}))
        .await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn credentials_are_write_only_and_sealed() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let mut body = app.mock_target("/v1/chat/completions");
    body["authType"] = json!("CUSTOM_HEADER");
    body["authConfig"] = json!({"headers": {"x-api-key": "sk-nested-secret-456"}});
    let (status, created) = app.post("/api/targets", &body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        created["data"]["authConfig"]["headers"]["x-api-key"],
        "********"
    );
    let id = created["data"]["id"].as_str().unwrap().to_string();

    // Update with the masked value left untouched keeps the stored secret.
    let mut update = body.clone();
    update["name"] = json!("renamed");
    update["authConfig"] = created["data"]["authConfig"].clone();
    let (status, updated) = app.put(&format!("/api/targets/{id}"), &update).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["data"]["name"], "renamed", "read-your-writes");

    let raw: Vec<String> = sqlx::query_scalar("SELECT payload FROM events")
        .fetch_all(app.core.store.pool())
        .await
        .unwrap();
    assert!(!raw.is_empty());
    assert!(
        raw.iter().all(|p| !p.contains("sk-nested-secret-456")),
        "plaintext secret in an event"
    );
    let (_, list) = app.get("/api/targets").await;
    assert!(!list.to_string().contains("sk-nested-secret-456"));

    // The secret still reaches the wire after the masked update.
    let scenario = app.create("/api/scenarios", &json!({"name": "one", "flowConfig": [{"type": "message", "config": {"content": "hi"}}]})).await;
    let s = app
        .execute(&json!({"targetId": id, "scenarioId": scenario}))
        .await;
    app.wait_for_status(&s, &["COMPLETED"]).await;
    let last = app
        .client
        .get(format!("{}/__last_request", app.mock.url()))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert!(
        last.to_string().contains("sk-nested-secret-456"),
        "auth header on the wire: {last}"
    );
}

#[actix_web::test]
async fn delete_is_refused_while_sessions_reference_a_target() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let s = app
        .execute(&json!({"targetId": target, "customMessages": ["hi"]}))
        .await;
    app.wait_for_status(&s, &["COMPLETED"]).await;
    let (status, resp) = app.delete(&format!("/api/targets/{target}")).await;
    assert_eq!(status, 409, "{resp}");
    assert!(
        resp["error"].as_str().unwrap().contains("1 session(s)"),
        "{resp}"
    );
    let (status, _) = app
        .delete(&format!("/api/targets/{target}?force=true"))
        .await;
    assert_eq!(status, 200);
    let (status, _) = app.get(&format!("/api/targets/{target}")).await;
    assert_eq!(status, 404);
    let (status, _) = app.get(&format!("/api/sessions/{s}")).await;
    assert_eq!(status, 200, "force keeps the sessions and their history");
}

#[actix_web::test]
async fn cascade_deletes_finished_sessions_and_refuses_while_one_runs() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let target = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let done = app
        .execute(&json!({"targetId": target, "customMessages": ["hi"]}))
        .await;
    app.wait_for_status(&done, &["COMPLETED"]).await;
    let mut slow = app.mock_target("/timeout");
    slow["name"] = json!("slow");
    let slow = app.create("/api/targets", &slow).await;
    let running = app
        .execute(&json!({"targetId": slow, "customMessages": ["hang"], "messageTimeoutMs": 60000}))
        .await;
    app.wait_for_status(&running, &["RUNNING"]).await;
    let (status, resp) = app
        .delete(&format!("/api/targets/{slow}?cascade=true"))
        .await;
    assert_eq!(status, 409, "{resp}");
    assert!(
        resp["error"]
            .as_str()
            .unwrap()
            .contains("queued or running"),
        "{resp}"
    );
    let (status, resp) = app
        .delete(&format!("/api/targets/{target}?cascade=true"))
        .await;
    assert_eq!(status, 200, "{resp}");
    let (status, _) = app.get(&format!("/api/sessions/{done}")).await;
    assert_eq!(status, 404, "the finished session went with its target");
    let (_, events) = app.get(&format!("/api/sessions/{done}/events")).await;
    assert_eq!(
        events["data"].as_array().unwrap().last().unwrap()["type"],
        "SessionDeleted",
        "audit trail kept"
    );
    app.patch(
        &format!("/api/sessions/{running}"),
        &json!({"action": "cancel"}),
    )
    .await;
}
