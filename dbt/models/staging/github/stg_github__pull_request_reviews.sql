-- One row per review (GitHub review node id) on a pull request, any state, PENDING
-- included (a draft review, not yet submitted: `submitted_at` is null). A reviewer whose
-- account was deleted has a null login/kind. Null items are skipped; repeats kept once.

with

source as (

    select * from {{ source('github', 'pull_requests') }}

),

reviews as (

    {{ unnest_pull_request_list(
        'source', "pr -> '$.reviews.nodes'", 'review',
        unique_by="review ->> '$.id'",
        where="review ->> '$.id' is not null"
    ) }}

),

renamed as (

    select
        review ->> '$.id'                                   as review_id,
        node_id                                             as pull_request_id,
        repo,
        pr_number,
        review ->> '$.state'                                as review_state,
        cast(review ->> '$.submittedAt' as timestamptz)     as submitted_at,
        review ->> '$.author.login'                         as reviewer_login,
        review ->> '$.author.__typename'                    as reviewer_kind,
        loaded_at
    from reviews

)

select * from renamed
