/*
 * export_cmd.h — the `potluckd export` command and the transcripts written
 * when a session ends (embedded mode).
 */
#ifndef PL_EXPORT_CMD_H
#define PL_EXPORT_CMD_H

#include "log/log.h"

int export_cmd_main(int argc, char **argv);
/* Writes DIR/exports/ROOM.json and ROOM.md from the room's log. */
void export_cmd_session_ended(struct log *log, const char *data_dir, const char *room);

#endif
