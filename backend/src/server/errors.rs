//! The API's error answers: a status and a JSON body (`ErrorBody`), with a message and the
//! problems (with their paths) or the conflicts when the error is about the lab; and JSON
//! bodies whose rejections answer the same way.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use nslab_model::api::ErrorBody;
use nslab_model::Problem;

use super::runs::RunError;
use crate::engine::EngineError;

/// An error answer: a status and a JSON body (boxed: errors are rare, results common).
pub struct ApiError(StatusCode, Box<ErrorBody>);

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError::with(status, ErrorBody::new(message))
    }

    pub fn with(status: StatusCode, body: ErrorBody) -> Self {
        ApiError(status, Box::new(body))
    }

    pub fn invalid(problems: Vec<Problem>) -> Self {
        let body = ErrorBody { problems, ..ErrorBody::new("the lab has errors; fix them first") };
        ApiError::with(StatusCode::UNPROCESSABLE_ENTITY, body)
    }

    pub fn engine(error: EngineError) -> Self {
        match error {
            EngineError::Invalid(problems) => ApiError::invalid(problems),
            EngineError::Conflicts(conflicts) => {
                let body = ErrorBody {
                    conflicts,
                    ..ErrorBody::new("the kernel holds things in the lab's way that nslab did not create")
                };
                ApiError::with(StatusCode::CONFLICT, body)
            }
            EngineError::InUse(users) => {
                let in_use = users.iter().map(ToString::to_string).collect();
                let body = ErrorBody { in_use, ..ErrorBody::new(EngineError::InUse(users).to_string()) };
                ApiError::with(StatusCode::CONFLICT, body)
            }
            busy @ EngineError::Busy { .. } => ApiError::new(StatusCode::CONFLICT, busy.to_string()),
            stopped @ EngineError::Interrupted { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, stopped.to_string())
            }
            unprivileged @ EngineError::Unprivileged(_) => {
                ApiError::new(StatusCode::FORBIDDEN, unprivileged.to_string())
            }
            other => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(*self.1)).into_response()
    }
}

/// A JSON body whose rejection is an `ApiError` (400 with the reason, 413 when too big).
pub struct JsonBody<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let status = match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::BAD_REQUEST,
    };
    ApiError::new(status, rejection.body_text())
}

impl From<RunError> for ApiError {
    fn from(error: RunError) -> Self {
        match error {
            RunError::Busy => ApiError::new(StatusCode::CONFLICT, RunError::Busy.to_string()),
            RunError::Engine(error) => ApiError::engine(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run refused before it starts says why with the status a client can act on.
    #[test]
    fn refused_runs_map_to_403_and_409() {
        let unprivileged = ApiError::engine(EngineError::Unprivileged(vec!["CAP_SYS_ADMIN"]));
        assert_eq!(unprivileged.0, StatusCode::FORBIDDEN);
        assert!(unprivileged.1.message.contains("needs CAP_SYS_ADMIN"), "{}", unprivileged.1.message);
        let user = crate::kernel::users::NamespaceUser {
            namespace: "ns1".into(),
            process: crate::processes::Process { pid: 7, start_time: 1 },
            command: "sh".into(),
        };
        let in_use = ApiError::engine(EngineError::InUse(vec![user]));
        assert_eq!(in_use.0, StatusCode::CONFLICT);
        assert!(in_use.1.message.starts_with("namespace `ns1` is in use by process 7 (`sh`)"), "{}", in_use.1.message);
        assert_eq!(in_use.1.in_use, ["process 7 (`sh`) in namespace `ns1`"], "named for a client to offer `kill=true`");
    }
}
