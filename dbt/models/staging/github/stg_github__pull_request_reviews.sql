-- One row per review (GitHub review node id) on a pull request, any state, PENDING
-- included (a draft review, not yet submitted: `submitted_at` is null). A reviewer whose
-- account was deleted has a null login/kind. Null items are skipped; repeats kept once.

with

source as (

    select * from {{ source('github', 'pull_requests') }}

),

-- unnest in the select list: a filter on loaded_at reaches the raw scan (see
-- stg_github__pull_request_labels).
unnested as (

    select
        node_id,
        repo,
        pr_number,
        loaded_at,
        unnest(cast(pr -> '$.reviews.nodes' as json[])) as review
    from source

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
    from unnested
    where review is not null
      and review ->> '$.id' is not null
    -- A review belongs to one PR, so partitioning by the PR (and its loaded_at, one value
    -- per PR) changes nothing, but lets a filter on loaded_at pass the window.
    qualify row_number() over (partition by node_id, loaded_at, review ->> '$.id') = 1

)

select * from renamed
