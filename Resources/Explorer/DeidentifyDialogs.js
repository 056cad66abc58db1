// Orthanc Explorer, de-identification plugin: the De-identify dialog (a job
// on a patient, study or series; an instance stored at once) and the Preview
// de-identification dialog of an instance (the table of changed elements).
(function ($, ns) {
  'use strict';

  if (!$ || !ns) {
    return;
  }

  var LEVELS = ns.LEVELS;
  var ELLIPSIS = ns.ELLIPSIS;
  var Rest = ns.Rest;
  var OpenDialog = ns.OpenDialog;
  var Template = ns.Template;
  var BuildSettings = ns.BuildSettings;
  var FollowJob = ns.FollowJob;
  var ResourceLink = ns.ResourceLink;

  // ---- De-identify ---------------------------------------------------------

  function OpenDeidentify(level, id) {
    var dialog = OpenDialog('De-identify this ' + LEVELS[level].name + ' (PS3.15 Annex E)');
    dialog.body.append($('<p class="deid-hint">').text(
      'A de-identified copy is made; the original stays. Pick a profile and any further options.'));
    var settings = BuildSettings(dialog, true);

    dialog.AddButton('deid-start', 'De-identify', true, function (button) {
      var body = settings.Read();
      button.prop('disabled', true);
      var path = '/' + LEVELS[level].plural + '/' + id + '/deidentify';
      if (level === 'instance') {
        body.Store = true;
      }
      Rest('POST', path, body).then(function (answer) {
        if (level === 'instance') {
          dialog.ShowProgress(100, 'Done: the de-identified instance is stored.');
          dialog.ShowResult(ResourceLink('instance', answer.ID, 'Open the de-identified instance'));
          return;
        }
        FollowJob(dialog, answer.ID, function (job) {
          var resources = (job.Content && job.Content.Resources) || [];
          if (resources.length === 0) {
            dialog.ShowError('The job ended without a new ' + LEVELS[level].name);
            return;
          }
          var result = $('<div>');
          $.each(resources, function (i, r) {
            var type = String(r.Type || level).toLowerCase();
            result.append($('<div>').append(ResourceLink(type, r.ID, 'Open the de-identified ' + type)));
          });
          dialog.ShowResult(result);
        }, function () {
          button.prop('disabled', false);
        });
      }, function (message) {
        button.prop('disabled', false);
        dialog.ShowError(message);
      });
    });
  }


  // ---- Preview (instance) --------------------------------------------------

  // Before is absent for sequences and binary values, After when removed;
  // Z leaves an empty value.
  function CellValue(value, absent) {
    if (value === null || value === undefined) {
      return $('<span class="deid-none">').text(absent);
    }
    if (value === '') {
      return $('<span class="deid-none">').text('(empty)');
    }
    return $('<span class="deid-value">').text(String(value));
  }

  function ShowPreview(changes) {
    var head = $('#deid-preview-head').empty();
    var rows = $('#deid-preview-rows').empty();
    var hasReason = false;
    $.each(changes, function (i, c) {
      if (c.Reason !== undefined && c.Reason !== null && c.Reason !== '') {
        hasReason = true;
      }
    });

    var columns = ['Tag', 'Name', 'Path', 'Action', 'Option', 'Before', 'After'];
    if (hasReason) {
      columns.push('Reason');
    }
    $.each(columns, function (i, column) {
      head.append($('<th>').text(column));
    });

    $.each(changes, function (i, c) {
      var row = $('<tr>');
      row.append($('<td class="deid-tag">').text(c.Tag || ''));
      row.append($('<td>').text(c.Name || ''));
      row.append($('<td class="deid-tag">').text(c.Path || ''));
      row.append($('<td>').append($('<span class="deid-action">').text(c.Action || '')));
      row.append($('<td>').text(c.Option || ''));
      row.append($('<td>').append(CellValue(c.Before, '(not shown)')));
      row.append($('<td>').append(CellValue(c.After, c.Action === 'X' ? '(removed)' : '(not shown)')));
      if (hasReason) {
        row.append($('<td>').text(c.Reason || ''));
      }
      rows.append(row);
    });
    $('#deid-preview-summary').text(changes.length + ' element' + (changes.length === 1 ? '' : 's') +
                                    ' would change. Nothing is stored.');
  }

  function OpenPreview(level, id) {
    var dialog = OpenDialog('Preview de-identification of this instance', true);
    var settings = BuildSettings(dialog, false);
    dialog.body.append(Template('preview'));

    function Run(button) {
      if (button) {
        button.prop('disabled', true);
      }
      Rest('POST', '/instances/' + id + '/deidentify/preview', settings.Read()).then(function (changes) {
        ShowPreview(changes || []);
      }, function (message) {
        dialog.ShowError(message);
      }).always(function () {
        if (button) {
          button.prop('disabled', false);
        }
      });
    }

    dialog.AddButton('deid-preview-start', 'Preview', true, Run);
    settings.loaded.then(function () {
      Run(null);
    });
  }

  ns.OpenDeidentify = OpenDeidentify;
  ns.OpenPreview = OpenPreview;
})(window.jQuery, window.DeidentificationExplorer);
