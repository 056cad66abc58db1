// Orthanc Explorer buttons of the de-identification plugin (issue 11):
// De-identify, Preview de-identification, Send de-identified to, Re-identify,
// on the patient, study, series and instance pages.
//
// Plain JavaScript over the jQuery 1.7 / jQuery Mobile 1.1 that Orthanc
// Explorer already loads. Every value that comes from the server or from
// DICOM is inserted as text (jQuery .text(), .val(), .attr() on non-script
// attributes), never as HTML: a patient name holding markup shows as text.
// The CSS and the dialog templates (Deidentification.css, Dialogs.html) come
// in window.DeidentificationExplorerAssets, set by the plugin before this file.
(function ($, assets) {
  'use strict';

  if (!$ || !$.mobile || !assets) {
    return;
  }

  var LEVELS = {
    patient: { plural: 'patients', name: 'patient', child: 'Studies', next: 'study' },
    study: { plural: 'studies', name: 'study', child: 'Series', next: 'series' },
    series: { plural: 'series', name: 'series', child: 'Instances', next: 'instance' },
    instance: { plural: 'instances', name: 'instance' }
  };
  var POLL_MILLISECONDS = 500;
  var ELLIPSIS = '\u2026';

  var capabilities = null;       // a promise of GET /deidentification/capabilities
  var currentDialog = null;      // the open dialog (one at a time)


  // ---- REST ----------------------------------------------------------------

  // The server's message in plain words, from Orthanc's JSON error body
  // ({"Details": ..., "Message": ..., "HttpStatus": ...}).
  function DescribeError(xhr, method, path) {
    var body = null;
    try {
      body = JSON.parse(xhr.responseText);
    } catch (e) {
      body = null;
    }

    var text;
    if (body && typeof body.Details === 'string' && body.Details !== '') {
      text = body.Details;
      if (typeof body.Message === 'string' && body.Message !== '' && body.Message !== body.Details) {
        text += ' (' + body.Message + ')';
      }
    } else if (body && typeof body.Message === 'string' && body.Message !== '') {
      text = body.Message;
    } else if (xhr.status === 0) {
      text = 'Orthanc did not answer (is it running, is the network up?)';
    } else if (xhr.status === 404) {
      text = 'Not found: this Orthanc or plugin version has no such resource or route';
    } else {
      text = 'Orthanc answered HTTP ' + xhr.status + (xhr.statusText ? ' ' + xhr.statusText : '');
    }
    return text + ' [' + method + ' ' + path + ', HTTP ' + xhr.status + ']';
  }

  // Calls Orthanc's REST API; the promise is rejected with a message in plain words.
  function Rest(method, path, body) {
    var deferred = $.Deferred();
    var settings = {
      url: '..' + path,
      type: method,
      dataType: 'json',
      cache: false,
      success: function (answer) {
        deferred.resolve(answer);
      },
      error: function (xhr) {
        deferred.reject(DescribeError(xhr, method, path));
      }
    };
    if (body !== undefined) {
      settings.data = JSON.stringify(body);
      settings.contentType = 'application/json';
    }
    $.ajax(settings);
    return deferred.promise();
  }

  function GetCapabilities() {
    if (capabilities === null) {
      capabilities = Rest('GET', '/deidentification/capabilities');
      capabilities.fail(function () {
        capabilities = null;   // retried on the next page
      });
    }
    return capabilities;
  }

  // The first instance of a resource (to read its markers).
  function FirstInstance(level, id) {
    var deferred = $.Deferred();
    (function Walk(l, resourceId) {
      if (l === 'instance') {
        deferred.resolve(resourceId);
        return;
      }
      Rest('GET', '/' + LEVELS[l].plural + '/' + resourceId).then(function (resource) {
        var children = resource[LEVELS[l].child];
        if (children && children.length > 0) {
          Walk(LEVELS[l].next, children[0]);
        } else {
          deferred.reject('The ' + l + ' has no instance');
        }
      }, function (message) {
        deferred.reject(message);
      });
    })(level, id);
    return deferred.promise();
  }

  // De-identified by this plugin (the source metadata) or by anyone
  // (PatientIdentityRemoved (0012,0062) = YES).
  function IsDeidentified(level, id, sourceMetadata) {
    var deferred = $.Deferred();
    FirstInstance(level, id).then(function (instance) {
      Rest('GET', '/instances/' + instance + '/metadata?expand').then(function (metadata) {
        if (metadata && metadata[sourceMetadata || 'DeidentifiedFrom'] !== undefined) {
          deferred.resolve(true);
          return;
        }
        Rest('GET', '/instances/' + instance + '/tags?short').then(function (tags) {
          deferred.resolve(tags && typeof tags['0012,0062'] === 'string' &&
                           $.trim(tags['0012,0062']).toUpperCase() === 'YES');
        }, function () {
          deferred.resolve(false);
        });
      }, function () {
        deferred.resolve(false);
      });
    }, function () {
      deferred.resolve(false);
    });
    return deferred.promise();
  }


  // ---- The dialog ----------------------------------------------------------

  function Template(name) {
    var template = document.getElementById('deid-template-' + name);
    return $(document.importNode(template.content, true));
  }

  function OpenDialog(title, wide) {
    if (currentDialog !== null) {
      currentDialog.Close();
    }

    var overlay = $('#deid-dialog');
    var dialog = {
      closed: false,
      body: $('#deid-dialog-body').empty(),
      footer: $('#deid-dialog-footer').empty(),

      ShowError: function (message) {
        $('#deid-error').text(message).prop('hidden', false);
      },
      ClearError: function () {
        $('#deid-error').text('').prop('hidden', true);
      },
      ShowProgress: function (percent, text) {
        $('#deid-progress').prop('hidden', false);
        $('#deid-progress-fill').css('width', Math.max(0, Math.min(100, percent)) + '%');
        $('#deid-progress-text').text(text);
      },
      ShowResult: function (node) {
        $('#deid-result').empty().append(node).prop('hidden', false);
      },
      AddButton: function (id, label, primary, onClick) {
        var button = $('<button type="button" class="deid-button">').attr('id', id).text(label);
        if (primary) {
          button.addClass('deid-primary');
        }
        button.click(function () {
          dialog.ClearError();
          onClick(button);
        });
        dialog.footer.append(button);
        return button;
      },
      Close: function () {
        dialog.closed = true;
        overlay.prop('hidden', true);
        $('#deid-dialog-body, #deid-dialog-footer, #deid-result').empty();
        if (currentDialog === dialog) {
          currentDialog = null;
        }
      }
    };

    $('#deid-dialog-title').text(title);
    $('#deid-error, #deid-result, #deid-progress').prop('hidden', true);
    $('#deid-progress-text').text('');
    $('#deid-progress-fill').css('width', '0');
    overlay.find('.deid-dialog').toggleClass('deid-wide', !!wide);
    overlay.prop('hidden', false);
    currentDialog = dialog;
    dialog.AddButton('deid-cancel', 'Close', false, function () {
      dialog.Close();
    });
    return dialog;
  }

  // A link to a resource in Orthanc Explorer.
  function ResourceLink(level, id, label) {
    return $('<a>').attr('href', '#' + level + '?uuid=' + encodeURIComponent(id))
      .attr('id', 'deid-result-link')
      .text(label)
      .click(function (event) {
        if (currentDialog !== null) {
          currentDialog.Close();
        }
        // Orthanc Explorer does not refresh a page shown again for another
        // resource of the same level: load it afresh, as its Anonymize does.
        var active = $.mobile.activePage ? $.mobile.activePage.attr('id') : '';
        if (active === level) {
          event.preventDefault();
          window.location.assign('explorer.html' + $(this).attr('href'));
          window.location.reload();
        }
      });
  }

  // Follows an Orthanc job until it ends; "done" gets the finished job.
  function FollowJob(dialog, jobId, done) {
    function Poll() {
      if (dialog.closed) {
        return;
      }
      Rest('GET', '/jobs/' + encodeURIComponent(jobId)).then(function (job) {
        var content = job.Content || {};
        var count = content.InstancesCount;
        var text = 'Job ' + jobId + ': ' + job.State + ', ' + (job.Progress || 0) + '%';
        if (typeof count === 'number') {
          text += ' of ' + count + ' instance' + (count === 1 ? '' : 's');
        }
        dialog.ShowProgress(job.Progress || 0, text);

        if (job.State === 'Success') {
          done(job);
        } else if (job.State === 'Failure') {
          var message = 'The job failed: ' + (content.Error || job.ErrorDescription || 'no reason given');
          $.each(content.FailedInstances || [], function (i, failure) {
            message += '\n- instance ' + failure.Instance + ': ' + failure.Error;
          });
          dialog.ShowError(message);
        } else {
          window.setTimeout(Poll, POLL_MILLISECONDS);
        }
      }, function (message) {
        dialog.ShowError(message);
      });
    }
    dialog.ShowProgress(0, 'Job ' + jobId + ' submitted' + ELLIPSIS);
    Poll();
  }


  // ---- Profile, options and project ---------------------------------------

  // Fills the settings template; "read()" gives the request body fields.
  function BuildSettings(dialog, withProject) {
    var settings = Template('settings');
    dialog.body.append(settings);
    if (withProject) {
      dialog.body.append(Template('project'));
    }

    var profiles = {};
    var profileSelect = $('#deid-profile');
    var optionList = $('#deid-option-list');

    function ShowProfile() {
      var profile = profiles[profileSelect.val()] || { Options: [] };
      $('#deid-profile-description').text(profile.Description || profile.DeidentificationMethod || '');
      optionList.find('input').each(function () {
        var input = $(this);
        var fromProfile = $.inArray(input.val(), profile.Options || []) >= 0;
        input.data('from-profile', fromProfile);
        if (fromProfile) {
          input.prop('checked', true).prop('disabled', true);
        } else if (input.data('implemented')) {
          input.prop('disabled', false);
          if (input.data('was-from-profile')) {
            input.prop('checked', false);
          }
        }
        input.data('was-from-profile', fromProfile);
      });
    }

    var loaded = $.when(Rest('GET', '/deidentification/profiles'),
                        Rest('GET', '/deidentification/options'));
    loaded.then(function (profileAnswer, optionAnswer) {
      profiles = profileAnswer || {};
      var names = $.map(profiles, function (value, name) { return name; }).sort();
      $.each(names, function (i, name) {
        var option = $('<option>').val(name).text(name + (profiles[name].Default ? ' (default)' : ''));
        option.prop('selected', !!profiles[name].Default);
        profileSelect.append(option);
      });

      $.each(optionAnswer || [], function (i, o) {
        var input = $('<input type="checkbox" name="deid-option">').val(o.Name)
          .data('implemented', !!o.Implemented).prop('disabled', !o.Implemented);
        var label = $('<label class="deid-option">').append(input)
          .append($('<span>').text(o.Name))
          .append($('<span class="deid-code">').text(o.Code));
        if (!o.Implemented) {
          label.addClass('deid-disabled').attr('title', 'Not implemented in this version');
        }
        optionList.append(label);
      });
      profileSelect.change(ShowProfile);
      ShowProfile();
    }, function (message) {
      dialog.ShowError(message);
    });

    return {
      loaded: loaded,
      Read: function () {
        var body = { Profile: profileSelect.val(), Options: [] };
        optionList.find('input:checked').each(function () {
          if (!$(this).data('from-profile')) {
            body.Options.push($(this).val());
          }
        });
        var project = $.trim($('#deid-project').val() || '');
        if (project !== '') {
          body.Project = project;
        }
        return body;
      }
    };
  }


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


  // ---- Send de-identified to -----------------------------------------------

  function AddDestinations(select, label, kind, names) {
    if (!names || names.length === 0) {
      return;
    }
    var group = $('<optgroup>').attr('label', label);
    $.each(names, function (i, name) {
      group.append($('<option>').val(JSON.stringify({ kind: kind, name: name }))
                   .text(name).attr('data-kind', kind));
    });
    select.append(group);
  }

  function Names(answer) {
    if ($.isArray(answer)) {
      return answer;
    }
    return $.map(answer || {}, function (value, name) { return name; });
  }

  function Row(table, key, value) {
    table.append($('<tr>').append($('<th>').text(key)).append($('<td>').text(value)));
  }

  // The answer of POST /deidentification/rules/test: "Allowed" (all
  // instances), and the distinct "Decisions" with their instance counts.
  function ShowDecision(target, answer) {
    target.empty();
    var decisions = $.isArray(answer.Decisions) ? answer.Decisions : [answer];
    var count = answer.InstancesCount;
    target.append($('<div>').addClass(answer.Allowed ? 'deid-allowed' : 'deid-refused')
                  .text(answer.Allowed
                        ? 'Allowed by the rules' + (typeof count === 'number' ? ' for all ' + count + ' instance(s)' : '')
                        : 'Not allowed for every instance: refused instances are not sent'));
    $.each(decisions, function (i, d) {
      var table = $('<table class="deid-kv">').attr('data-rule', d.Rule || '');
      Row(table, 'Rule', d.Rule ? d.Rule : '(none: no rule covers these instances)');
      Row(table, 'Decision', (d.Allowed ? 'allowed' : 'refused') +
          (typeof d.InstancesCount === 'number' ? ' for ' + d.InstancesCount + ' instance(s)' : ''));
      if (d.Reason) {
        Row(table, 'Reason', d.Reason);
      }
      if (d.Allowed) {
        var effective = d.Effective || {};
        var options = effective.Options || d.Options || [];
        Row(table, 'Profile', effective.Profile || d.Profile || '(the default profile)');
        Row(table, 'Options', options.length ? options.join(', ') : '(none)');
        Row(table, 'Project', d.Project || '(the profile\'s, else "default")');
        if (d.Recipients && d.Recipients.length) {
          Row(table, 'Recipients', d.Recipients.join(', '));
        }
      }
      target.append(table);
    });
  }

  function OpenSend(level, id, caps) {
    var dialog = OpenDialog('Send this ' + LEVELS[level].name + ' de-identified');
    dialog.body.append(Template('send'));
    var select = $('#deid-destination');
    var rule = $('#deid-rule');
    select.append($('<option value="">').text('Choose a destination' + ELLIPSIS));

    // The DICOMweb plugin may not be loaded: its absence is not an error.
    function Optional(path) {
      var deferred = $.Deferred();
      Rest('GET', path).then(function (a) { deferred.resolve(a); }, function () { deferred.resolve([]); });
      return deferred.promise();
    }

    $.when(Rest('GET', '/modalities'), Rest('GET', '/peers'), Optional('/dicom-web/servers'))
      .then(function (modalities, peers, servers) {
        AddDestinations(select, 'DICOM modalities (C-STORE)', 'Modality', Names(modalities));
        AddDestinations(select, 'Orthanc peers', 'Peer', Names(peers));
        AddDestinations(select, 'DICOMweb servers (STOW-RS)', 'DicomWeb', Names(servers));
        if (select.find('option').length === 1) {
          dialog.ShowError('No destination is configured in Orthanc ("DicomModalities", ' +
                           '"OrthancPeers" or the DICOMweb "Servers").');
        }
      }, function (message) {
        dialog.ShowError(message);
      });

    function Selected() {
      var value = select.val();
      return value ? JSON.parse(value) : null;
    }

    select.change(function () {
      dialog.ClearError();
      rule.empty();
      var destination = Selected();
      if (destination === null) {
        return;
      }
      if (!caps.RulesTest) {
        rule.text('This plugin version cannot tell which rule applies (no /deidentification/rules/test).');
        return;
      }
      var d = {};
      d[destination.kind] = destination.name;
      rule.text('Checking the rules' + ELLIPSIS);
      Rest('POST', '/deidentification/rules/test', { Resource: id, Destination: d }).then(function (answer) {
        if (Selected() !== null && Selected().name === destination.name) {
          ShowDecision(rule, answer);
        }
      }, function (message) {
        rule.empty();
        dialog.ShowError(message);
      });
    });

    dialog.AddButton('deid-send-start', 'Send', true, function (button) {
      var destination = Selected();
      if (destination === null) {
        dialog.ShowError('Choose a destination first.');
        return;
      }
      var body = {};
      body[destination.kind] = destination.name;
      button.prop('disabled', true);
      Rest('POST', '/' + LEVELS[level].plural + '/' + id + '/deidentify/send', body).then(function (answer) {
        if (!answer || typeof answer.ID !== 'string') {
          dialog.ShowResult($('<div>').text('Sent.'));
          return;
        }
        FollowJob(dialog, answer.ID, function (job) {
          var c = job.Content || {};
          var text = 'Sent to ' + destination.kind + ' "' + destination.name + '"';
          if (typeof c.SentInstancesCount === 'number') {
            text += ': ' + c.SentInstancesCount + ' instance(s) sent';
          }
          if (typeof c.RefusedInstancesCount === 'number' && c.RefusedInstancesCount > 0) {
            text += ', ' + c.RefusedInstancesCount + ' refused by the rules';
          }
          dialog.ShowResult($('<div id="deid-send-done">').text(text + '.'));
        });
      }, function (message) {
        button.prop('disabled', false);
        dialog.ShowError(message);
      });
    });
  }


  // ---- Re-identify ---------------------------------------------------------

  function OpenReidentify(level, id) {
    var dialog = OpenDialog('Re-identify this ' + LEVELS[level].name + ' (PS3.15 E.1.2)');
    dialog.body.append(Template('reidentify'));

    dialog.AddButton('deid-reidentify-start', 'Re-identify', true, function (button) {
      var input = document.getElementById('deid-key-file');
      if (!input.files || input.files.length === 0) {
        dialog.ShowError('Choose the private key file (PEM) first.');
        return;
      }
      button.prop('disabled', true);
      var reader = new FileReader();
      reader.onerror = function () {
        button.prop('disabled', false);
        dialog.ShowError('This browser could not read the key file.');
      };
      reader.onload = function () {
        var body = { PrivateKey: String(reader.result) };
        var password = $('#deid-key-password').val();
        if (password) {
          body.Password = password;
        }
        if (level === 'instance') {
          body.Store = true;
        }
        // The key lives in this request only: forget it in the page.
        input.value = '';
        $('#deid-key-password').val('');

        Rest('POST', '/' + LEVELS[level].plural + '/' + id + '/reidentify', body).then(function (answer) {
          body = null;
          if (level === 'instance') {
            dialog.ShowProgress(100, 'Done: the re-identified instance is stored.');
            dialog.ShowResult(ResourceLink('instance', answer.ID, 'Open the re-identified instance'));
            return;
          }
          FollowJob(dialog, answer.ID, function (job) {
            var instances = (job.Content && job.Content.Instances) || [];
            if (instances.length === 0) {
              dialog.ShowError('The job ended without a re-identified instance');
              return;
            }
            Rest('GET', '/instances/' + instances[0] + '/' + level).then(function (resource) {
              dialog.ShowResult(ResourceLink(level, resource.ID, 'Open the re-identified ' + level));
            }, function (message) {
              dialog.ShowError(message);
            });
          });
        }, function (message) {
          body = null;
          button.prop('disabled', false);
          dialog.ShowError(message);
        });
      };
      reader.readAsText(input.files[0]);
    });
  }


  // ---- Buttons on the pages ------------------------------------------------

  function CurrentId() {
    return ($.mobile.pageData && $.mobile.pageData.uuid) ? String($.mobile.pageData.uuid) : null;
  }

  function AddItem(list, level, action, icon, label, open) {
    var link = $('<a href="#">').attr('id', 'deid-' + level + '-' + action).text(label);
    link.click(function (event) {
      event.preventDefault();
      var id = CurrentId();
      if (id === null) {
        return;
      }
      GetCapabilities().then(function (caps) {
        open(level, id, caps);
      }, function (message) {
        OpenDialog(label).ShowError(message);
      });
    });
    var item = $('<li>').attr('data-icon', icon).append(link);
    list.append(item);
    return item;
  }

  function AddButtons(level) {
    $('#' + level).live('pagebeforecreate', function () {
      if ($('#deid-' + level + '-actions').length > 0) {
        return;
      }
      var list = $('<ul data-role="listview" data-inset="true" data-theme="d" data-divider-theme="c">')
        .attr('id', 'deid-' + level + '-actions');
      list.append($('<li data-role="list-divider">').text('De-identification (PS3.15)'));
      if (level === 'instance') {
        AddItem(list, level, 'preview', 'search', 'Preview de-identification', OpenPreview);
      }
      AddItem(list, level, 'deidentify', 'star', 'De-identify' + ELLIPSIS, OpenDeidentify);
      AddItem(list, level, 'send', 'forward', 'Send de-identified to' + ELLIPSIS, OpenSend).hide();
      AddItem(list, level, 'reidentify', 'back', 'Re-identify' + ELLIPSIS, OpenReidentify).hide();
      list.insertAfter($('#' + level + '-delete').closest('ul'));
    });

    $('#' + level).live('pagebeforeshow', function () {
      UpdateButtons(level);
    });
  }

  // What shows depends on the plugin's capabilities and on the resource.
  function UpdateButtons(level) {
    var id = CurrentId();
    var send = $('#deid-' + level + '-send').closest('li');
    var reidentify = $('#deid-' + level + '-reidentify').closest('li');
    var list = $('#deid-' + level + '-actions');
    send.hide();
    reidentify.hide();
    if (id === null || list.length === 0) {
      return;
    }
    GetCapabilities().then(function (caps) {
      if (caps.Send) {
        send.show();
      }
      list.listview('refresh');
      if (caps.Reidentification) {
        IsDeidentified(level, id, caps.SourceMetadata).then(function (deidentified) {
          if (deidentified && CurrentId() === id) {
            reidentify.show();
            list.listview('refresh');
          }
        });
      }
    });
  }

  // Orthanc Explorer reuses the page when only the resource changes (links
  // from one study to another): follow the hash as it does.
  $(window).bind('hashchange', function () {
    window.setTimeout(function () {
      var active = $.mobile.activePage ? $.mobile.activePage.attr('id') : '';
      if (LEVELS[active] !== undefined) {
        UpdateButtons(active);
      }
    }, 0);
  });

  $(function () {
    $('<style id="deid-style">').text(assets['Deidentification.css'] || '').appendTo('head');
    $('body').append(assets['Dialogs.html'] || '');
    $('#deid-close').click(function () {
      if (currentDialog !== null) {
        currentDialog.Close();
      }
    });
    $(document).keydown(function (event) {
      if (event.which === 27 && currentDialog !== null) {
        currentDialog.Close();
      }
    });
  });

  $.each(['patient', 'study', 'series', 'instance'], function (i, level) {
    AddButtons(level);
  });

  // For the browser tests and for other scripts.
  window.DeidentificationExplorer = { DescribeError: DescribeError, Version: 1 };
})(window.jQuery, window.DeidentificationExplorerAssets);
