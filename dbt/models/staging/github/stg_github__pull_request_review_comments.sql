-- PLACEHOLDER (no rows) until review-thread comments are collected: the review-comments
-- work replaces this file with the staging of raw.pull_request_review_comments.
select
    null::varchar as comment_id, null::varchar as review_id, null::varchar as pull_request_id,
    null::varchar as repo, null::integer as pr_number, null::timestamptz as created_at,
    null::varchar as author_login, null::varchar as author_kind, null::timestamptz as loaded_at
where false
