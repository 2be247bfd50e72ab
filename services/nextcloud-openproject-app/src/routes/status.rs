use actix_web::HttpResponse;
use storage_protocol::nextcloud::Status;

/// GET /status.php — public, readable from any origin.
pub async fn get() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Access-Control-Allow-Origin", "*"))
        .json(Status::default())
}
