-- One row per pull request x label (the labels on the PR when it was last fetched).
-- Null connections and null list items are skipped; an item repeated by the load's page
-- merge (a list that changed while it was paged) is kept once.

with

source as (

    select * from {{ source('github', 'pull_requests') }}

),

unnested as (

    select
        source.node_id,
        source.repo,
        source.pr_number,
        item.label
    from source
    cross join unnest(cast(source.pr -> '$.labels.nodes' as json[])) as item(label)

),

renamed as (

    select
        node_id                                        as pull_request_id,
        repo,
        pr_number,
        label ->> '$.id'                               as label_id,
        replace(label ->> '$.name', chr(0), '')        as label_name,
        label ->> '$.color'                            as label_color
    from unnested
    where label is not null
      and label ->> '$.name' is not null
    qualify row_number() over (
        partition by node_id, label ->> '$.name' order by label ->> '$.id'
    ) = 1

)

select * from renamed
