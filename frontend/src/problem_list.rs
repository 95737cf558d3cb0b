//! Validation problems, each with its place in the document.

use leptos::prelude::*;
use nslab_model::{Problem, Severity};

#[component]
pub fn ProblemList(problems: Vec<Problem>) -> impl IntoView {
    let empty = problems.is_empty();
    view! {
        <section id="problems">
            <h2>"Checks"</h2>
            {empty.then(|| view! { <p class="muted">"No problems: this lab can be applied."</p> })}
            <ul>
                {problems.into_iter().map(|problem| {
                    let class = match problem.severity {
                        Severity::Error => "problem error",
                        Severity::Warning => "problem warning",
                    };
                    view! {
                        <li class=class>
                            <span class="path">{problem.path.to_string()}</span>": "{problem.message}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}
