-- One row per pull request x label (the labels on the PR when it was last fetched).
-- Null connections and null list items are skipped; an item repeated by the load's page
-- merge (a list that changed while it was paged) is kept once.

with

source as (

    select * from {{ source('github', 'pull_requests') }}

),

-- unnest in the select list, not as a lateral join: then a filter on node_id or
-- loaded_at reaches the raw table's scan, so an incremental model that reads only the
-- PRs loaded since its last build unnests only those (macros/incremental.sql).
unnested as (

    select
        node_id,
        repo,
        pr_number,
        loaded_at,
        unnest(cast(pr -> '$.labels.nodes' as json[])) as label
    from source

),

renamed as (

    select
        node_id                                        as pull_request_id,
        repo,
        pr_number,
        label ->> '$.id'                               as label_id,
        replace(label ->> '$.name', chr(0), '')        as label_name,
        label ->> '$.color'                            as label_color,
        loaded_at
    from unnested
    where label is not null
      and label ->> '$.name' is not null
    -- loaded_at is one value per node_id, so partitioning by it changes nothing, but it
    -- lets a filter on loaded_at pass this window down to the scan.
    qualify row_number() over (
        partition by node_id, loaded_at, label ->> '$.name' order by label ->> '$.id'
    ) = 1

)

select * from renamed
