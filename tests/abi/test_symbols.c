/* Links a C program against every public function: a function declared but
 * not exported (or exported under another name) fails to link. */
#include <stdio.h>

#include <lashup/lashup.h>

typedef void (*any_function)(void);

int main(void) {
  const any_function functions[] = {
      (any_function)lashup_config_destroy,
      (any_function)lashup_config_get,
      (any_function)lashup_config_get_int,
      (any_function)lashup_config_key_count,
      (any_function)lashup_config_key_name,
      (any_function)lashup_config_load_file,
      (any_function)lashup_config_new,
      (any_function)lashup_config_set,
      (any_function)lashup_event_destroy,
      (any_function)lashup_event_incarnation,
      (any_function)lashup_event_node,
      (any_function)lashup_event_payload,
      (any_function)lashup_event_peer,
      (any_function)lashup_event_request_id,
      (any_function)lashup_event_rtt_us,
      (any_function)lashup_event_sequence,
      (any_function)lashup_event_state,
      (any_function)lashup_event_time_us,
      (any_function)lashup_event_topic,
      (any_function)lashup_event_type,
      (any_function)lashup_free,
      (any_function)lashup_last_error,
      (any_function)lashup_mc_publish,
      (any_function)lashup_mc_publish_seq,
      (any_function)lashup_mc_subscribe,
      (any_function)lashup_mc_unsubscribe,
      (any_function)lashup_members_address,
      (any_function)lashup_members_count,
      (any_function)lashup_members_destroy,
      (any_function)lashup_members_distance,
      (any_function)lashup_members_find,
      (any_function)lashup_members_incarnation,
      (any_function)lashup_members_last_heard_ms,
      (any_function)lashup_members_link_report,
      (any_function)lashup_members_link_report_count,
      (any_function)lashup_members_metadata,
      (any_function)lashup_members_name,
      (any_function)lashup_members_neighbor,
      (any_function)lashup_members_neighbor_count,
      (any_function)lashup_members_state,
      (any_function)lashup_node_address,
      (any_function)lashup_node_destroy,
      (any_function)lashup_node_distance,
      (any_function)lashup_node_event_fd,
      (any_function)lashup_node_health_check,
      (any_function)lashup_node_incarnation,
      (any_function)lashup_node_leave,
      (any_function)lashup_node_members,
      (any_function)lashup_node_name,
      (any_function)lashup_node_new,
      (any_function)lashup_node_poll,
      (any_function)lashup_node_reachable,
      (any_function)lashup_node_route_tree,
      (any_function)lashup_node_set_event_cb,
      (any_function)lashup_node_set_metadata,
      (any_function)lashup_node_start,
      (any_function)lashup_node_stat,
      (any_function)lashup_node_stat_count,
      (any_function)lashup_node_stat_name,
      (any_function)lashup_node_stop,
      (any_function)lashup_route_tree_count,
      (any_function)lashup_route_tree_destroy,
      (any_function)lashup_route_tree_distance,
      (any_function)lashup_route_tree_node,
      (any_function)lashup_route_tree_parent,
      (any_function)lashup_strerror,
      (any_function)lashup_version,
      (any_function)lashup_version_string,
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; ++i) {
    if (functions[i] == NULL) return 1;
  }
  printf("%zu public functions linked\n", sizeof functions / sizeof functions[0]);
  return 0;
}
