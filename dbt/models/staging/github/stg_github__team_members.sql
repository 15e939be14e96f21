-- One row per immediate member of a team in an `ok` sync, with the role GitHub gives on the
-- member's edge (MAINTAINER or MEMBER). Null edges and nodes are skipped; a login repeated
-- by a list that changed while it was paged is kept once.

with

source as (

    select * from {{ source('github', 'org_teams') }}

),

edges as (

    select org, synced_at, team, loaded_at, edge
    from (
        select org, synced_at, team, loaded_at,
               unnest(cast(team -> '$.members.edges' as json[])) as edge
        from source
    )
    where edge is not null
      and edge ->> '$.node.login' is not null
    qualify row_number() over (
        partition by org, synced_at, team ->> '$.id', lower(edge ->> '$.node.login')
        order by edge ->> '$.role'
    ) = 1

),

renamed as (

    select
        lower(org)                      as org,
        synced_at,
        team ->> '$.slug'               as team_slug,
        edge ->> '$.node.login'         as login,
        edge ->> '$.role'               as role,
        loaded_at
    from edges

)

select * from renamed
